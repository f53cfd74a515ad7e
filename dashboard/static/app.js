// Relm dashboard: small progressive enhancement. Every page works without it.
"use strict";

// Copy buttons: data-copy names the input whose value to copy.
document.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  const input = document.querySelector(b.dataset.copy);
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  b.textContent = "Copied";
});

// Live regions: an element with data-live refreshes itself every 2 s from the same page
// while it says data-pending="true".
function refreshLive() {
  const live = document.querySelector("[data-live]");
  if (!live || live.dataset.pending !== "true") return;
  setTimeout(async () => {
    try {
      const res = await fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const next = doc.getElementById(live.id);
      if (next) live.replaceWith(next);
    } catch { /* try again on the next tick */ }
    refreshLive();
  }, 2000);
}
refreshLive();

// Deal board: drag a card onto a column to move the deal there. It posts the card's own
// "move to stage" form, which also works by keyboard and without script.
document.querySelectorAll("[data-deal]").forEach((card) => {
  card.draggable = true;
  card.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", card.id));
});
document.querySelectorAll("[data-stage]").forEach((col) => {
  col.addEventListener("dragover", (e) => { e.preventDefault(); col.classList.add("over"); });
  col.addEventListener("dragleave", () => col.classList.remove("over"));
  col.addEventListener("drop", (e) => {
    e.preventDefault();
    col.classList.remove("over");
    const card = document.getElementById(e.dataTransfer.getData("text/plain"));
    if (!card || card.closest("[data-stage]") === col) return;
    const form = card.querySelector("form[data-move]");
    form.querySelector("[name=stage]").value = col.dataset.stage;
    form.requestSubmit();
  });
});

// Forms with data-confirm ask before they submit (deleting something).
document.addEventListener("submit", (e) => {
  const msg = e.target.dataset && e.target.dataset.confirm;
  if (msg && !confirm(msg)) e.preventDefault();
});
