// Keyboard shortcuts and small behaviours; everything else is server-rendered with htmx.
(function () {
  "use strict";
  let pendingG = false;

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") !== null;
  }

  function focusAndReveal(element) {
    element.scrollIntoView({ block: "center" });
    element.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.metaKey) return;
    if ((event.ctrlKey && event.key === "k")) {
      event.preventDefault();
      const search = document.getElementById("global-search");
      if (search) focusAndReveal(search);
      return;
    }
    if (event.ctrlKey || typing(event.target)) {
      if (event.key === "Escape" && event.target.id === "global-search") {
        document.getElementById("global-search-results").innerHTML = "";
        event.target.blur();
      }
      return;
    }
    if (pendingG) {
      pendingG = false;
      const link = document.querySelector(`[data-shortcut="g${event.key}"]`) ||
        document.querySelector(event.key === "a" ? "a[accesskey=a]" : event.key === "c" ? "a[accesskey=c]" : "#none");
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    switch (event.key) {
      case "/": {
        const search = document.getElementById("global-search");
        if (search) { event.preventDefault(); focusAndReveal(search); }
        break;
      }
      case "g":
        pendingG = true;
        setTimeout(function () { pendingG = false; }, 1000);
        break;
      case "l": {
        const field = document.querySelector("[data-quick-log] input[name=subject]");
        if (field) { event.preventDefault(); focusAndReveal(field); }
        break;
      }
      case "n": {
        const create = document.querySelector("[data-shortcut=new]");
        if (create) { event.preventDefault(); create.click(); }
        break;
      }
      case "?": {
        const help = document.getElementById("shortcut-help");
        if (help && window.bootstrap) { window.bootstrap.Modal.getOrCreateInstance(help).show(); }
        break;
      }
    }
  });

  // Arrow keys move through the global search results; Enter opens one.
  document.addEventListener("keydown", function (event) {
    const results = document.getElementById("global-search-results");
    if (!results || !results.contains(document.activeElement) && document.activeElement.id !== "global-search") return;
    const links = Array.from(results.querySelectorAll("a"));
    if (!links.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    const index = links.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? Math.min(index + 1, links.length - 1) : Math.max(index - 1, -1);
    if (next === -1) document.getElementById("global-search").focus(); else links[next].focus();
  });

  // A stale edit (412) or a validation error returned to an htmx request keeps its swap.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status === 422 || status === 412 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// Autocomplete pickers ([data-autocomplete]): a search box fills a list of options by htmx;
// picking one stores its pk in the hidden [data-autocomplete-value] input. Typing again
// clears the choice, so what is saved is always what the box shows.
(function () {
  "use strict";
  function pick(option) {
    const box = option.closest("[data-autocomplete]");
    if (!box) return;
    box.querySelector("[data-autocomplete-value]").value = option.dataset.value;
    const input = box.querySelector("[data-autocomplete-input]");
    input.value = option.dataset.label;
    option.parentElement.innerHTML = "";
    input.focus();
  }
  document.addEventListener("click", function (event) {
    const option = event.target.closest("[data-autocomplete-option]");
    if (option) { event.preventDefault(); pick(option); }
  });
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-autocomplete-input]")) return;
    const box = event.target.closest("[data-autocomplete]");
    if (box) box.querySelector("[data-autocomplete-value]").value = "";
  });
  document.addEventListener("keydown", function (event) {
    const box = event.target.closest && event.target.closest("[data-autocomplete]");
    if (!box) return;
    const options = Array.from(box.querySelectorAll("[data-autocomplete-option]"));
    if (event.key === "Escape") { options.forEach(function (o) { o.remove(); }); return; }
    if (!options.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    const index = options.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? Math.min(index + 1, options.length - 1) : index - 1;
    if (next < 0) box.querySelector("[data-autocomplete-input]").focus(); else options[next].focus();
  });

  // Forms with data-confirm ask first (trash, remove from team, revoke).
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  // Open the tab named in the address (#team, #history) and keep the address in step.
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.bootstrap) return;
    const trigger = location.hash && document.querySelector(`[data-bs-toggle="tab"][data-bs-target="${CSS.escape(location.hash)}"]`);
    if (trigger) window.bootstrap.Tab.getOrCreateInstance(trigger).show();
    document.querySelectorAll('[data-bs-toggle="tab"]').forEach(function (tab) {
      tab.addEventListener("shown.bs.tab", function () { history.replaceState(null, "", tab.dataset.bsTarget); });
    });
  });
})();

// People & timeline pages: copy buttons and the multi-account picker ([data-account-picker]).
(function () {
  "use strict";

  // <button data-copy="#input"> copies the input's value.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    source.select();
    const done = function () { if (button.dataset.copiedLabel) button.textContent = button.dataset.copiedLabel; };
    if (navigator.clipboard) { navigator.clipboard.writeText(source.value).then(done); } else { document.execCommand("copy"); done(); }
  });

  function chip(picker, value, label) {
    const span = document.createElement("span");
    span.className = "badge rounded-pill text-bg-light border d-inline-flex align-items-center";
    span.dataset.chip = "";
    span.append(document.createTextNode(label));
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = picker.dataset.name;
    input.value = value;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn-close btn-close-sm ms-1";
    remove.dataset.unpick = "";
    remove.setAttribute("aria-label", "×");
    span.append(input, remove);
    return span;
  }

  // [data-account-picker]: picking an option adds a chip with a hidden input; × removes it.
  document.addEventListener("click", function (event) {
    const option = event.target.closest("[data-pick]");
    const unpick = event.target.closest("[data-unpick]");
    const picker = (option || unpick) && (option || unpick).closest("[data-account-picker]");
    if (!picker) return;
    event.preventDefault();
    const chosen = picker.querySelector("[data-chosen]");
    if (option) {
      const exists = chosen.querySelector(`input[value="${CSS.escape(option.dataset.pick)}"]`);
      if (!picker.hasAttribute("data-multiple")) chosen.innerHTML = "";
      if (!exists || !picker.hasAttribute("data-multiple")) chosen.append(chip(picker, option.dataset.pick, option.dataset.label));
      const search = picker.querySelector("input[type=search]");
      search.value = "";
      picker.querySelector(".search-dropdown").innerHTML = "";
      search.focus();
    } else {
      unpick.closest("[data-chip]").remove();
    }
    picker.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();

// "l" opens the tab holding the quick-log form first (capture phase: before the shortcut
// handler focuses the subject, which it cannot do while the pane is hidden).
document.addEventListener("keydown", function (event) {
  if (event.key !== "l" || event.ctrlKey || event.altKey || event.metaKey || !window.bootstrap) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable=true]")) return;
  const pane = document.querySelector("[data-quick-log]") && document.querySelector("[data-quick-log]").closest(".tab-pane");
  if (!pane || pane.classList.contains("active")) return;
  const trigger = document.querySelector(`[data-bs-toggle="tab"][data-bs-target="#${CSS.escape(pane.id)}"]`);
  if (trigger) window.bootstrap.Tab.getOrCreateInstance(trigger).show();
}, true);
