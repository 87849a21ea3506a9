// "My bets" and "Wallet": the private `bet` and `wallet` events of the signed-in bettor's
// socket (session cookie) update the page in place.
import { OddsStream, wsUrl } from "../oddstream-client.js";

const indicator = document.getElementById("connection");
const betsBody = document.querySelector("#bets tbody");
const ledgerBody = document.querySelector("#ledger tbody");
const balance = document.getElementById("balance");
const nowUtc = () => new Date().toISOString().replace("T", " ").slice(0, 19);

function row(values) {
  const tr = document.createElement("tr");
  for (const value of values) {
    const td = document.createElement("td");
    td.textContent = value ?? "";
    tr.append(td);
  }
  return tr;
}

function onBet(bet) {
  if (!betsBody) return;
  betsBody.querySelector("tr.empty")?.remove();
  const existing = betsBody.querySelector(`tr[data-bet-id="${bet.id}"]`);
  if (existing) {
    existing.querySelector(".status").textContent = bet.status;
    existing.querySelector(".payout").textContent = bet.payout ?? "";
    existing.classList.add(bet.status === "won" ? "up" : "down");
    return;
  }
  const tr = row([bet.id, `match ${bet.match}`, bet.selection, bet.stake, bet.odds.toFixed(2), bet.status, bet.payout, nowUtc()]);
  tr.dataset.betId = bet.id;
  tr.children[5].className = "status";
  tr.children[6].className = "payout";
  betsBody.prepend(tr);
}

function onWallet(event) {
  if (balance) balance.textContent = event.balance;
  if (ledgerBody) ledgerBody.prepend(row([nowUtc(), event.reason, event.change, event.balance, ""]));
}

// Any socket of the user receives their private events; subscribe to no match.
const stream = new OddsStream(wsUrl("/ws/odds/"));
stream.addEventListener("status", (event) => {
  indicator.textContent = event.detail.status;
  indicator.className = `connection connection--${event.detail.status}`;
});
stream.addEventListener("bet", (event) => onBet(event.detail));
stream.addEventListener("wallet", (event) => onWallet(event.detail));
stream.start();
window.oddstream = stream;
