// The kanban board (sales/board.html): drag a card to another column to move the deal.
//
// A drop calls the REST API (POST /api/v1/opportunities/<id>/move) with the card's ETag in
// If-Match and the CSRF token; the service decides. On success the two columns are re-read
// from the server (counts and totals are SQL aggregates there). On 412 the deal changed since
// the board was drawn: the whole board is re-read and a clear message shown. Dropping on a lost
// stage first asks for the loss reason in a Bootstrap modal; cancelling puts the card back.
(() => {
  "use strict";

  const board = document.getElementById("board");
  if (!board || typeof Sortable === "undefined") return;
  const message = document.getElementById("board-message");
  const canWrite = board.dataset.canWrite === "true";
  const sortables = new Map();

  function say(text, kind) {
    if (!message) return;
    message.textContent = text;
    message.className = `alert alert-${kind}`;
    if (kind === "success") {
      window.clearTimeout(say.timer);
      say.timer = window.setTimeout(() => message.classList.add("d-none"), 2500);
    }
  }

  function moveUrl(dealId) {
    return board.dataset.moveUrl.replace(/\/0\/move$/, `/${dealId}/move`);
  }

  // Re-read some columns (or all of them) from the server and swap them in.
  async function refresh(stageIds) {
    const url = new URL(board.dataset.columnsUrl, window.location.href);
    if (stageIds && stageIds.length) url.searchParams.set("stages", stageIds.join(","));
    board.classList.add("is-busy");
    try {
      const response = await fetch(url, {
        headers: { "HX-Request": "true" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html");
      fresh.querySelectorAll("section.board-column").forEach((column) => {
        const current = document.getElementById(column.id);
        if (current) {
          const adopted = document.importNode(column, true);
          current.replaceWith(adopted);
          // The column's "Show more" button is htmx: let htmx see the new one.
          if (window.htmx) window.htmx.process(adopted);
          bind(adopted);
        }
      });
    } finally {
      board.classList.remove("is-busy");
    }
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

  async function move(card, fromStage, toStage, extra) {
    board.classList.add("is-busy");
    let response;
    try {
      response = await fetch(moveUrl(card.dataset.deal), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "If-Match": card.dataset.etag,
          "X-CSRFToken": board.dataset.csrf,
        },
        body: JSON.stringify({ stage: Number(toStage), ...extra }),
      });
    } catch (error) {
      say(board.dataset.msgNetwork, "danger");
      await refresh();
      return;
    } finally {
      board.classList.remove("is-busy");
    }
    if (response.ok) {
      const etag = response.headers.get("ETag");
      if (etag) card.dataset.etag = etag;
      say(board.dataset.msgMoved, "success");
      await refresh([fromStage, toStage]);
    } else if (response.status === 412) {
      say(board.dataset.msgStale, "warning");
      await refresh();
    } else {
      say(`${board.dataset.msgFailed} ${await problemText(response)}`, "danger");
      await refresh([fromStage, toStage]);
    }
  }

  // Ask for the loss reason; resolve with {loss_reason, loss_note}, or null when cancelled.
  function askLossReason() {
    const element = document.getElementById("loss-modal");
    const form = document.getElementById("loss-form");
    const select = document.getElementById("loss-reason");
    const note = document.getElementById("loss-note");
    const modal = bootstrap.Modal.getOrCreateInstance(element);
    select.value = "";
    note.value = "";
    select.classList.remove("is-invalid");
    return new Promise((resolve) => {
      let answer = null;
      const submit = (event) => {
        event.preventDefault();
        if (!select.value) {
          select.classList.add("is-invalid");
          select.focus();
          return;
        }
        answer = { loss_reason: Number(select.value), loss_note: note.value };
        modal.hide();
      };
      const clear = () => select.classList.remove("is-invalid");
      form.addEventListener("submit", submit);
      select.addEventListener("change", clear);
      element.addEventListener(
        "hidden.bs.modal",
        () => {
          form.removeEventListener("submit", submit);
          select.removeEventListener("change", clear);
          resolve(answer);
        },
        { once: true },
      );
      element.addEventListener("shown.bs.modal", () => select.focus(), { once: true });
      modal.show();
    });
  }

  function putBack(event) {
    const { item, from, oldIndex } = event;
    from.insertBefore(item, from.children[oldIndex] || null);
  }

  async function onEnd(event) {
    if (event.from === event.to) return;
    const card = event.item;
    const fromStage = event.from.dataset.stage;
    const toStage = event.to.dataset.stage;
    const kind = event.to.closest(".board-column").dataset.kind;
    let extra = {};
    if (kind === "lost") {
      const answer = await askLossReason();
      if (!answer) {
        putBack(event);
        return;
      }
      extra = answer;
    }
    await move(card, fromStage, toStage, extra);
  }

  function bind(column) {
    const list = column.querySelector(".board-cards");
    if (!list || !canWrite) return;
    const previous = sortables.get(column.id);
    if (previous) previous.destroy();
    sortables.set(
      column.id,
      Sortable.create(list, {
        group: "deals",
        sort: false,
        animation: 150,
        draggable: ".board-card",
        filter: "a, button",
        preventOnFilter: false,
        ghostClass: "sortable-ghost",
        chosenClass: "sortable-chosen",
        onEnd,
      }),
    );
  }

  board.querySelectorAll("section.board-column").forEach(bind);
})();
