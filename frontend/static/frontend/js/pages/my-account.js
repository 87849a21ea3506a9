// "My bets" and "Wallet": the private `bet` and `wallet` events of the signed-in bettor's
// socket (session cookie) settle bets and move the balance in place.
import { pageStream } from "../components/page-stream.js";
import { apiFetch } from "../lib/api.js";
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
    existing.classList.add("flash-settled");
    return;
  }
  const info = await matchTeams(bet.match);
  const link = document.createElement("a");
  link.href = `/matches/${bet.match}/`;
  link.textContent = info.home_team ? `${info.home_team} v ${info.away_team}` : `match ${bet.match}`;
  const tr = row([
    ["#", bet.id], ["Match", link], ["Pick", pickName(bet.market || "1x2", bet.selection, info)], ["Stake", bet.stake],
    ["Odds", formatOdds(bet.odds)], ["Status", badge(bet.status)], ["Payout", bet.payout, "payout"], ["Placed", nowUtc()],
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

const stream = pageStream("/ws/odds/"); // any socket of the user gets their private events
stream.addEventListener("bet", (event) => onBet(event.detail));
stream.addEventListener("wallet", (event) => onWallet(event.detail));
stream.start();
