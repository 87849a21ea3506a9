// One match on screen (a board card or the match page): every price button of every market it
// shows, with ▲/▼ and a flash on each change, which ones can be pressed and why not, each
// market's state, the status badge and its reason, the live state (period, running clock,
// score, red cards) and the bets counted. The rules are in ../lib (tested under Node).
import { ARROWS, STATUS_LABELS, SUSPENSION_WORDS, countdown, direction, moveText } from "../lib/format.js";
import { effectiveStatus, extraMarkets, marketStateText, selectionView, withMatchFrame } from "../lib/markets.js";
import { PERIOD_LABELS, isInPlay, redCardsText, runningClock } from "../lib/live.js";

const FLASH_MS = 1200;
const states = new WeakMap(); // root -> the newest full state shown
const received = new WeakMap(); // root -> when its live state arrived (the clock runs on from it)

function flash(element, dir) {
  element.classList.remove("flash-up", "flash-down");
  void element.offsetWidth; // restart the animation
  element.classList.add(`flash-${dir}`);
  setTimeout(() => element.classList.remove(`flash-${dir}`), FLASH_MS);
}

// The state this root shows now (the page's first one, then every frame's), or undefined.
export function stateOf(root) {
  return states.get(root);
}

// Start a root from the state the server rendered it with (the match page embeds it).
export function adopt(root, state) {
  states.set(root, state);
  received.set(root, Date.now());
  render(root, state, { arrows: false });
}

function setStatus(root, state) {
  const status = state.status;
  if (!status) return;
  root.dataset.status = status;
  const badge = root.querySelector('[data-role="status"]');
  if (badge) {
    badge.dataset.status = status;
    badge.textContent = STATUS_LABELS[status] || status;
  }
  const words = status === "suspended" && state.suspended_reason ? SUSPENSION_WORDS[state.suspended_reason] || state.suspended_reason : "";
  const reason = root.querySelector('[data-role="reason"]');
  if (reason) {
    reason.textContent = words;
    reason.hidden = !words;
  }
  const notice = root.querySelector("#suspension");
  if (notice) {
    notice.hidden = status !== "suspended";
    notice.textContent = `Betting is suspended${words ? ` (${words})` : ""}: every market reopens with new prices shortly.`;
  }
}

function renderButtons(root, state, arrows) {
  for (const button of root.querySelectorAll(".price-button[data-market]")) {
    const { market, selection } = button.dataset;
    const view = selectionView(state, market, selection);
    const cell = button.querySelector(".price");
    const before = Number(cell.textContent);
    if (view.price !== null || state.markets?.[market]) cell.textContent = view.text;
    button.disabled = !view.bettable;
    button.title = view.why;
    if (view.decided) button.dataset.decided = view.decided;
    else delete button.dataset.decided;
    const dir = arrows ? direction(before, view.price) : null;
    if (!dir) continue;
    // The arrow stays until the next change, and says in words which way for screen readers:
    // the colour of the flash is never the only sign.
    const move = button.querySelector(".move");
    move.textContent = ARROWS[dir];
    move.dataset.dir = dir;
    move.setAttribute("aria-label", moveText(dir, before));
    move.title = moveText(dir, before);
    flash(button, dir);
  }
  for (const block of root.querySelectorAll(".market[data-market]")) {
    const text = marketStateText(state, block.dataset.market);
    block.dataset.marketStatus = effectiveStatus(state, block.dataset.market);
    const label = block.querySelector('[data-role="market-state"]');
    label.textContent = text;
    label.hidden = !text;
  }
}

function renderLive(root, live) {
  const box = root.querySelector('[data-role="live"]');
  if (!box) return;
  root.dataset.live = String(isInPlay(live));
  if (!live || live.period === "pre_match") {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.dataset.period = live.period;
  box.querySelector('[data-role="period"]').textContent = PERIOD_LABELS[live.period] ?? live.period;
  box.querySelector('[data-role="clock"]').textContent = runningClock(live, received.get(root) ?? Date.now(), Date.now());
  box.querySelector('[data-role="score-home"]').textContent = live.score?.home ?? 0;
  box.querySelector('[data-role="score-away"]').textContent = live.score?.away ?? 0;
  box.querySelector('[data-role="red-cards"]').textContent = redCardsText(live);
}

function render(root, state, { arrows }) {
  renderButtons(root, state, arrows);
  setStatus(root, state);
  renderLive(root, state.live);
  const bets = root.querySelector('[data-role="bets"]');
  if (bets && state.bets !== undefined) bets.textContent = state.bets;
  const extra = root.querySelector('[data-role="extra-count"]');
  if (extra && state.markets) {
    extra.textContent = extraMarkets(state);
    root.querySelector('[data-role="more-markets"]').hidden = extraMarkets(state) === 0;
  }
}

// A full state (an `odds` frame, a snapshot's entry): prices with their arrows, and the rest.
export function applyState(root, state) {
  if (Number(root.dataset.version) > state.version) return;
  root.dataset.version = state.version;
  states.set(root, state);
  if (state.live !== undefined) received.set(root, Date.now());
  render(root, state, { arrows: true });
}

// A `match` frame: status, reason and live state on the newest full state shown.
export function applyMatchFrame(root, frame) {
  const current = states.get(root) || { match: frame.match, version: Number(root.dataset.version) || 0, status: root.dataset.status };
  const next = withMatchFrame(current, frame);
  if (next === current) return;
  states.set(root, next);
  if (frame.live !== undefined) received.set(root, Date.now());
  render(root, next, { arrows: false });
}

// Every countdown and running match clock on the page, once a second.
export function runClocks(container = document) {
  const update = () => {
    const now = Date.now();
    for (const root of container.querySelectorAll("[data-kickoff]")) {
      const cell = root.querySelector('[data-role="countdown"]');
      if (cell && root.dataset.kickoff) cell.textContent = root.dataset.live === "true" ? "" : countdown(Date.parse(root.dataset.kickoff), now);
      const live = states.get(root)?.live;
      const clock = root.querySelector('[data-role="clock"]');
      if (clock && live?.clock?.running) clock.textContent = runningClock(live, received.get(root) ?? now, now);
    }
  };
  update();
  return setInterval(update, 1000);
}
