// The board: every listed match with live 1X2 prices, the count of its further markets, and,
// for the matches in play (listed first), the score, clock and any suspension. A price click
// fills the bet slip; matches created or opened after the page loaded appear from their
// `match` frame, and a match that kicks off moves to the top, without a reload.
import { applyMatchFrame, applyState, runClocks } from "../components/match-view.js";
import { AccumulatorSlip } from "../components/accumulator-slip.js";
import { BetSlip, bindPriceButtons } from "../components/bet-slip.js";
import { pageStream } from "../components/page-stream.js";
import { apiFetch } from "../lib/api.js";
import { cardMaker } from "../lib/board.js";
import { boardOrder } from "../lib/live.js";

const board = document.getElementById("board");
const empty = document.getElementById("board-empty");
const template = document.getElementById("match-card-template");
const cards = new Map([...board.querySelectorAll(".match-card")].map((card) => [Number(card.dataset.matchId), card]));

const orderKey = (card) => ({ live: card.dataset.live === "true", kickoff: Date.parse(card.dataset.kickoff), id: Number(card.dataset.matchId) });

// In play first, then kick-off order, as the server renders it.
function place(card) {
  const key = orderKey(card);
  const after = [...board.children].find((other) => other !== card && boardOrder(key, orderKey(other)) < 0);
  if (after !== card.nextElementSibling || card.parentNode !== board) board.insertBefore(card, after || null);
  empty.hidden = true;
}

// A card whose match went in play (or out of it) moves to its place.
function replaceIfMoved(card, wasLive) {
  if (card.dataset.live !== wasLive) place(card);
}

function cardFor(info) {
  const card = template.content.firstElementChild.cloneNode(true);
  card.dataset.matchId = info.id;
  card.dataset.kickoff = info.kickoff;
  card.dataset.version = "0";
  card.querySelector('[data-role="link"]').href = `/matches/${info.id}/`;
  for (const side of ["home", "away"]) {
    for (const name of card.querySelectorAll(`[data-role="name-${side}"]`)) name.textContent = info[`${side}_team`];
  }
  card.querySelector(".prices").setAttribute("aria-label", `Prices: ${info.home_team} v ${info.away_team}`);
  const time = card.querySelector('[data-role="kickoff"]');
  time.dateTime = info.kickoff;
  time.textContent = new Date(info.kickoff).toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  card.querySelector('[data-role="more-markets"]').href = `/matches/${info.id}/`;
  applyState(card, { ...info, match: info.id });
  card.classList.add("match-card--new");
  return card;
}

const stream = pageStream("/ws/odds/");
// A match this page has not shown yet: its card from its details, fetched once.
const ensureCard = cardMaker({
  cards,
  fetchInfo: (id) => apiFetch("GET", `/api/matches/${id}/`).then((reply) => (reply.ok ? reply.body : null)),
  makeCard: (info) => {
    const card = cardFor(info);
    place(card);
    return card;
  },
  resync: (id) => stream.resync(id),
});
const slip = new BetSlip({ stream });
bindPriceButtons(board, slip);
runClocks(board);
const accumulator = new AccumulatorSlip(board); // picks from several matches in one bet

stream.addEventListener("odds", async (event) => {
  const { match, state } = event.detail;
  const card = await ensureCard(match);
  if (!card) return;
  const wasLive = card.dataset.live;
  applyState(card, stream.states.get(match) || state); // the newest, if more came meanwhile
  replaceIfMoved(card, wasLive);
});
stream.addEventListener("match", async (event) => {
  const { match } = event.detail;
  const known = cards.has(match);
  const card = await ensureCard(match);
  if (!card || !known) return;
  const wasLive = card.dataset.live;
  applyMatchFrame(card, event.detail);
  replaceIfMoved(card, wasLive);
});
stream.start();
window.board = { cards, slip, accumulator };
