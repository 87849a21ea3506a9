// One match on screen (a board card or the match page's header): prices with ▲/▼ and a
// flash on each change, the status badge, which prices can be clicked, bets, derived markets.
import {
  ARROWS, BETTABLE, MARKETS, SELECTIONS, STATUS_LABELS, countdown, direction, formatOdds, moveText,
} from "../lib/format.js";

const FLASH_MS = 1200;

function flash(element, dir) {
  element.classList.remove("flash-up", "flash-down");
  void element.offsetWidth; // restart the animation
  element.classList.add(`flash-${dir}`);
  setTimeout(() => element.classList.remove(`flash-${dir}`), FLASH_MS);
}

export function setStatus(root, status) {
  root.dataset.status = status;
  const badge = root.querySelector('[data-role="status"]');
  if (badge) {
    badge.dataset.status = status;
    badge.textContent = STATUS_LABELS[status] || status;
  }
  const bettable = BETTABLE.has(status);
  for (const button of root.querySelectorAll(".price-button")) {
    button.disabled = !bettable;
    button.title = bettable ? "" : `${STATUS_LABELS[status] || status}: no bets now`;
  }
}

// The price shown now, read from the page (server-rendered at first).
export function shownPrice(root, selection) {
  return Number(root.querySelector(`.price[data-selection="${selection}"]`)?.textContent);
}

export function applyState(root, state) {
  if (Number(root.dataset.version) > state.version) return;
  root.dataset.version = state.version;
  for (const selection of SELECTIONS) {
    const cell = root.querySelector(`.price[data-selection="${selection}"]`);
    if (!cell || state.odds?.[selection] === undefined) continue;
    const before = shownPrice(root, selection);
    const after = state.odds[selection];
    cell.textContent = formatOdds(after);
    const dir = direction(before, after);
    if (!dir) continue;
    // The arrow stays until the next change, and says in words which way for screen readers:
    // the colour of the flash is never the only sign.
    const move = root.querySelector(`[data-move="${selection}"]`);
    move.textContent = ARROWS[dir];
    move.dataset.dir = dir;
    move.setAttribute("aria-label", moveText(dir, before));
    move.title = moveText(dir, before);
    flash(cell.closest(".price-button") || cell, dir);
  }
  for (const { key, selections } of MARKETS) {
    for (const [selection] of selections) {
      const cell = root.querySelector(`[data-market="${key}.${selection}"]`);
      const price = state.markets?.[key]?.[selection];
      if (cell && price !== undefined) cell.textContent = formatOdds(price);
    }
  }
  const bets = root.querySelector('[data-role="bets"]');
  if (bets && state.bets !== undefined) bets.textContent = state.bets;
  if (state.status) setStatus(root, state.status);
}

// Every countdown on the page, from each root's `data-kickoff`, once a second.
export function runCountdowns(container = document) {
  const update = () => {
    const now = Date.now();
    for (const root of container.querySelectorAll("[data-kickoff]")) {
      const cell = root.querySelector('[data-role="countdown"]');
      if (cell && root.dataset.kickoff) cell.textContent = countdown(Date.parse(root.dataset.kickoff), now);
    }
  };
  update();
  return setInterval(update, 1000);
}
