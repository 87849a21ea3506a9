// One match: live prices, a bet slip that quotes the price the bettor saw, and the history.
import { OddsStream, wsUrl } from "../oddstream-client.js";

const section = document.getElementById("match");
const matchId = Number(section.dataset.matchId);
const authenticated = section.dataset.authenticated === "true";
const indicator = document.getElementById("connection");
const slip = document.getElementById("bet-slip");
const result = document.getElementById("slip-result");
const labels = { home: "Home", draw: "Draw", away: "Away" };
let current = null; // the latest state from the socket
let chosen = null; // the selection in the slip

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function flash(cell, direction) {
  cell.classList.remove("up", "down");
  void cell.offsetWidth;
  cell.classList.add(direction);
  setTimeout(() => cell.classList.remove(direction), 900);
}

function showSlip() {
  if (!chosen || !current) return;
  document.getElementById("slip-selection").textContent = labels[chosen];
  document.getElementById("slip-odds").textContent = current.odds[chosen].toFixed(2);
}

function addHistoryRow(state) {
  const row = document.createElement("tr");
  const time = new Date(state.ts).toISOString().slice(11, 19); // UTC, as the server renders it
  for (const value of [state.version, ...["home", "draw", "away"].map((s) => state.odds[s].toFixed(2)), state.bets, time]) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  document.querySelector("#history tbody").prepend(row);
}

function describeError(status, body) {
  if (status === 401 || status === 403) return "Sign in to place a bet.";
  if (body.code === "odds_changed") {
    return `The price moved to ${body.odds[chosen].toFixed(2)}: check it and place the bet again.`;
  }
  if (body.errors) {
    return Object.entries(body.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`).join(" ");
  }
  return body.detail || `The bet was refused (HTTP ${status}).`;
}

for (const button of document.querySelectorAll(".price-button")) {
  button.addEventListener("click", () => {
    if (!authenticated) { window.location.href = `/accounts/login/?next=${location.pathname}`; return; }
    chosen = button.dataset.selection;
    slip.hidden = false;
    result.textContent = "";
    showSlip();
  });
}

slip.addEventListener("submit", async (event) => {
  event.preventDefault();
  const quoted = current.odds[chosen];
  result.textContent = "Placing…";
  const reply = await fetch("/api/bets/", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({
      match: matchId,
      selection: chosen,
      stake: document.getElementById("slip-stake").value.trim(),
      odds: quoted,
      accept_odds_change: document.getElementById("slip-accept").value,
    }),
  });
  const body = await reply.json().catch(() => ({}));
  result.className = reply.ok ? "" : "error";
  result.textContent = reply.ok
    ? `Bet #${body.id} accepted: ${body.stake} on ${labels[body.selection]} at ${body.odds.toFixed(2)}.`
    : describeError(reply.status, body);
});

const stream = new OddsStream(wsUrl(`/ws/odds/${matchId}/`));
stream.addEventListener("status", (event) => {
  indicator.textContent = event.detail.status;
  indicator.className = `connection connection--${event.detail.status}`;
});
stream.addEventListener("odds", (event) => {
  const { state, previous, fromSnapshot } = event.detail;
  current = state;
  document.getElementById("match-status").textContent = state.status;
  document.getElementById("match-version").textContent = state.version;
  document.getElementById("match-bets").textContent = state.bets;
  for (const selection of ["home", "draw", "away"]) {
    const cell = document.querySelector(`.price[data-selection="${selection}"]`);
    const before = previous ? previous.odds[selection] : Number(cell.textContent);
    cell.textContent = state.odds[selection].toFixed(2);
    if (state.odds[selection] !== before) flash(cell, state.odds[selection] > before ? "up" : "down");
  }
  if (!fromSnapshot) addHistoryRow(state);
  showSlip();
});
stream.addEventListener("match", (event) => {
  document.getElementById("match-status").textContent = event.detail.status;
});
stream.start();
window.oddstream = stream;
