// "My bets" and "Wallet": the private `bet` and `wallet` events of the signed-in bettor's
// socket (session cookie) settle bets and move the balance in place.
import { pageStream } from "../components/page-stream.js";
import { apiFetch } from "../lib/api.js";
import { cashoutButton, decisionText, interpretAccept, interpretQuote } from "../lib/cashout.js";
import { formatOdds } from "../lib/format.js";
import { pickName } from "../lib/markets.js";

const betsBody = document.querySelector("#bets tbody");
const ledger = document.getElementById("ledger");
const balance = document.getElementById("balance");
const nowUtc = () => new Date().toISOString().replace("T", " ").slice(0, 19);
const teams = new Map(); // match id -> promise of {home_team, away_team}

function matchTeams(id) {
  if (!teams.has(id)) {
    teams.set(id, apiFetch("GET", `/api/matches/${id}/`).then((reply) => (reply.ok ? reply.body : {})));
  }
  return teams.get(id);
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const [label, value, className] of cells) {
    const td = document.createElement("td");
    td.dataset.label = label;
    if (value instanceof Node) td.append(value);
    else td.textContent = value ?? "–";
    if (className) td.className = className;
    tr.append(td);
  }
  return tr;
}

function badge(status) {
  const span = document.createElement("span");
  span.className = "badge status";
  span.dataset.status = status;
  span.textContent = status;
  return span;
}

async function onBet(bet) {
  if (!betsBody) return;
  const table = document.getElementById("bets");
  if (table.dataset.page !== "1" || table.dataset.filtered === "true") {
    // Another page, or a filtered list: settle a row shown here, else say that newer bets exist.
    const shown = betsBody.querySelector(`tr[data-bet-id="${bet.id}"]`);
    if (!shown) {
      document.getElementById("bets-newer").hidden = false;
      return;
    }
  }
  betsBody.querySelector("tr.empty")?.remove();
  const existing = betsBody.querySelector(`tr[data-bet-id="${bet.id}"]`);
  if (existing) {
    const status = existing.querySelector(".status");
    status.textContent = bet.status;
    status.dataset.status = bet.status;
    existing.querySelector(".payout").textContent = bet.payout ?? "–";
    // Settled: no cash-out button; its note (say, what a cash-out came to) stays.
    if (bet.status !== "open") existing.querySelector(".cashout .cashout-button")?.remove();
    existing.classList.add("flash-settled");
    return;
  }
  let match, pick;
  if (bet.kind === "accumulator") {
    match = `Accumulator (${bet.legs.length} legs)`;
    pick = bet.legs.map((leg) => `${leg.market} ${leg.selection} @ ${formatOdds(leg.odds)}`).join(" · ");
  } else {
    const info = await matchTeams(bet.match);
    match = document.createElement("a");
    match.href = `/matches/${bet.match}/`;
    match.textContent = info.home_team ? `${info.home_team} v ${info.away_team}` : `match ${bet.match}`;
    pick = pickName(bet.market || "1x2", bet.selection, info);
  }
  const tr = row([
    ["#", bet.id], ["Match", match], ["Pick", pick], ["Stake", bet.stake],
    ["Odds", formatOdds(bet.odds)], ["Status", badge(bet.status)], ["Payout", bet.payout, "payout"], ["Placed", nowUtc()],
    ["Cash out", null, "cashout"],
  ]);
  tr.dataset.betId = bet.id;
  if (!betsBody.querySelector(`tr[data-bet-id="${bet.id}"]`)) betsBody.prepend(tr);
}

function onWallet(event) {
  if (balance) balance.textContent = event.balance;
  if (!ledger) return;
  if (ledger.dataset.page !== "1") {
    // Older pages stay as they are; say that newer entries exist.
    document.getElementById("ledger-newer").hidden = false;
    return;
  }
  const body = ledger.querySelector("tbody");
  body.prepend(row([["When", nowUtc()], ["Kind", event.reason], ["Amount", event.change], ["Balance after", event.balance], ["Bet", null]]));
  while (body.rows.length > Number(ledger.dataset.pageSize)) body.lastElementChild.remove();
}

// Cash-out: `cashout` frames keep each open bet's button at its value now; a press asks for a
// quote (valid 10 s) and a second press on "Confirm" accepts it. The bet frame settles the row.
function onCashout(frame) {
  const cell = betsBody?.querySelector(`tr[data-bet-id="${frame.bet}"] .cashout`);
  if (!cell) return;
  let button = cell.querySelector(".cashout-button");
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    button.className = "cashout-button";
    button.dataset.bet = frame.bet;
    const note = document.createElement("span");
    note.className = "cashout-note muted";
    note.setAttribute("role", "status");
    cell.replaceChildren(button, note);
  }
  if (button.dataset.quote) return; // a quote is on offer: keep its amount until it is answered or expires
  const state = cashoutButton(frame);
  button.disabled = !state.enabled;
  button.textContent = state.text;
}

async function onCashoutPress(button) {
  const note = button.parentElement.querySelector(".cashout-note");
  const betId = button.dataset.bet;
  button.disabled = true;
  if (button.dataset.quote) {
    const reply = interpretAccept(await apiFetch("POST", `/api/bets/${betId}/cashout/`, { body: { quote: button.dataset.quote } }));
    delete button.dataset.quote;
    if (reply.kind === "cashed_out") {
      onBet(reply.bet);
      note.textContent = `Cashed out for ${reply.bet.payout}.`;
      return;
    }
    note.textContent = reply.text;
    button.textContent = "Cash out";
    button.disabled = reply.kind === "pending"; // in play: the decision frame says what came of it
    return;
  }
  const quote = interpretQuote(await apiFetch("POST", `/api/bets/${betId}/cashout/quote/`));
  button.disabled = false;
  if (quote.kind === "refused") {
    note.textContent = quote.text;
    return;
  }
  button.dataset.quote = quote.quote;
  button.textContent = `Confirm ${quote.amount}`;
  note.textContent = "Offer valid 10 s.";
  setTimeout(() => {
    if (button.dataset.quote !== quote.quote) return;
    delete button.dataset.quote;
    button.textContent = "Cash out";
    note.textContent = "The offer expired: press again for a new one.";
  }, Math.max(0, new Date(quote.expiresAt) - Date.now()));
}

// An in-play acceptance's decision after the bet delay: accepted (the bet frame settles the row)
// or refused (the bet stays open, and its button offers again).
function onCashoutDecision(frame) {
  const cell = betsBody?.querySelector(`tr[data-bet-id="${frame.bet}"] .cashout`);
  if (!cell) return;
  let note = cell.querySelector(".cashout-note");
  if (!note) {
    note = document.createElement("span");
    note.className = "cashout-note muted";
    note.setAttribute("role", "status");
    cell.append(note);
  }
  note.textContent = decisionText(frame);
  const button = cell.querySelector(".cashout-button");
  if (button && frame.status === "refused") button.disabled = false;
}

betsBody?.addEventListener("click", (event) => {
  const button = event.target.closest(".cashout-button");
  if (button && !button.disabled) onCashoutPress(button);
});

const stream = pageStream("/ws/odds/"); // any socket of the user gets their private events
stream.addEventListener("bet", (event) => onBet(event.detail));
stream.addEventListener("cashout", (event) => onCashout(event.detail));
stream.addEventListener("cashout_decision", (event) => onCashoutDecision(event.detail));
stream.addEventListener("wallet", (event) => onWallet(event.detail));
stream.start();
