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
