// A pipeline's settings page (sales/pipeline.html): drag a stage by its handle to reorder.
//
// A drop sends the whole new order to the REST API (PUT /api/v1/pipelines/<id>/stage-order)
// with the order the page showed before as `expected`, and the CSRF token; the service decides.
// If someone else reordered, added or deleted stages since the page was drawn the answer is 412
// and nothing is saved; on that or any other failure the row goes back where it was and the
// message says why. The up/down buttons stay: they work from the keyboard and without scripts.
(() => {
  "use strict";

  const rows = document.getElementById("stage-rows");
  if (!rows || typeof Sortable === "undefined") return;
  const message = document.getElementById("stage-message");
  let saved = order(); // The order the server has, as far as this page knows.

  function order() {
    return Array.from(rows.querySelectorAll("tr[data-stage]"), (row) => Number(row.dataset.stage));
  }

  function say(text, kind) {
    if (!message) return;
    window.clearTimeout(say.timer);
    message.textContent = text;
    message.className = `alert alert-${kind} py-2 mb-0 rounded-0`;
    if (kind === "success") {
      say.timer = window.setTimeout(() => message.classList.add("d-none"), 2500);
    }
  }

  // Put the rows back in ``ids`` order (after a refused save).
  function arrange(ids) {
    const byId = new Map();
    rows.querySelectorAll("tr[data-stage]").forEach((row) => {
      byId.set(Number(row.dataset.stage), row);
    });
    ids.forEach((id) => {
      const row = byId.get(id);
      if (row) rows.appendChild(row);
    });
    syncButtons();
  }

  // The first row cannot go up nor the last one down.
  function syncButtons() {
    const all = rows.querySelectorAll("tr[data-stage]");
    all.forEach((row, index) => {
      const up = row.querySelector("[data-move='up']");
      const down = row.querySelector("[data-move='down']");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === all.length - 1;
    });
  }

  async function problemText(response) {
    try {
      const body = await response.json();
      const fields = Object.values(body.errors || {}).flat();
      return [body.detail, ...fields].filter(Boolean).join(" ");
    } catch (error) {
      return response.statusText;
    }
  }

  async function save(sortable) {
    const wanted = order();
    if (wanted.join(",") === saved.join(",")) return;
    sortable.option("disabled", true);
    rows.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(rows.dataset.orderUrl, {
        method: "PUT",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": rows.dataset.csrf,
        },
        body: JSON.stringify({ stages: wanted, expected: saved }),
      });
    } catch (error) {
      response = null;
    }
    try {
      if (response && response.ok) {
        saved = wanted;
        syncButtons();
        say(rows.dataset.msgSaved, "success");
      } else {
        arrange(saved);
        const reason = response ? await problemText(response) : rows.dataset.msgNetwork;
        if (response && response.status === 412) {
          say(reason, "warning"); // The server says the stages changed and what to do.
        } else {
          say(`${rows.dataset.msgFailed} ${reason}`, "danger");
        }
      }
    } finally {
      rows.removeAttribute("aria-busy");
      sortable.option("disabled", false);
    }
  }

  const sortable = Sortable.create(rows, {
    handle: ".stage-handle",
    draggable: "tr[data-stage]",
    animation: 150,
    ghostClass: "sortable-ghost",
    chosenClass: "sortable-chosen",
    onEnd: () => save(sortable),
  });
  rows.classList.add("is-sortable");
})();
