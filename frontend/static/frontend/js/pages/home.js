// The board: every listed match with live prices. A price click fills the bet slip; matches
// created or opened after the page loaded appear from their `match` frame, without a reload.
import { applyState, runCountdowns, setStatus } from "../components/match-view.js";
import { BetSlip, bindPriceButtons } from "../components/bet-slip.js";
import { pageStream } from "../components/page-stream.js";
import { apiFetch } from "../lib/api.js";

const board = document.getElementById("board");
const empty = document.getElementById("board-empty");
const template = document.getElementById("match-card-template");
const cards = new Map([...board.querySelectorAll(".match-card")].map((card) => [Number(card.dataset.matchId), card]));
const fetching = new Map(); // match id -> promise of its card, so a burst of frames fetches once

function place(card) {
  // Kick-off order, as the server renders it.
  const kickoff = Date.parse(card.dataset.kickoff);
  const after = [...board.children].find((other) => Date.parse(other.dataset.kickoff) > kickoff);
  board.insertBefore(card, after || null);
  empty.hidden = true;
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
  applyState(card, { match: info.id, version: info.version, odds: info.odds, markets: info.markets, status: info.status, bets: info.bets });
  card.classList.add("match-card--new");
  return card;
}

// A match this page has not shown yet: fetch its details once, then add its card.
function ensureCard(id) {
  if (cards.has(id)) return Promise.resolve(cards.get(id));
  if (!fetching.has(id)) {
    const request = apiFetch("GET", `/api/matches/${id}/`)
      .then((reply) => (reply.ok ? reply.body : null))
      .then((info) => {
        fetching.delete(id);
        if (!info || cards.has(id)) return cards.get(id) || null;
        const card = cardFor(info);
        cards.set(id, card);
        place(card);
        return card;
      })
      .catch(() => { fetching.delete(id); return null; });
    fetching.set(id, request);
  }
  return fetching.get(id);
}

const stream = pageStream("/ws/odds/");
const slip = new BetSlip({ stream });
bindPriceButtons(board, slip);
runCountdowns(board);

stream.addEventListener("odds", async (event) => {
  const { match, state } = event.detail;
  const card = await ensureCard(match);
  if (card) applyState(card, stream.states.get(match) || state); // the newest, if more came meanwhile
});
stream.addEventListener("match", async (event) => {
  const { match, status } = event.detail;
  const known = cards.has(match);
  const card = await ensureCard(match);
  if (card && known) setStatus(card, status);
});
stream.start();
window.board = { cards, slip };
