// The front page: live prices with a flash on every change and a connection indicator.
import { OddsStream, wsUrl } from "../oddstream-client.js";

const indicator = document.getElementById("connection");
const rows = new Map(
  [...document.querySelectorAll("tr[data-match-id]")].map((row) => [Number(row.dataset.matchId), row]),
);

function flash(cell, direction) {
  cell.classList.remove("up", "down");
  void cell.offsetWidth; // restart the transition
  cell.classList.add(direction);
  setTimeout(() => cell.classList.remove(direction), 900);
}

const stream = new OddsStream(wsUrl("/ws/odds/"));
stream.addEventListener("status", (event) => {
  indicator.textContent = event.detail.status;
  indicator.className = `connection connection--${event.detail.status}`;
});
stream.addEventListener("odds", (event) => {
  const { match, state } = event.detail;
  const row = rows.get(match);
  if (!row) return;
  row.dataset.version = state.version;
  row.querySelector(".status").textContent = state.status;
  row.querySelector(".bets").textContent = state.bets;
  for (const selection of ["home", "draw", "away"]) {
    const cell = row.querySelector(`[data-selection="${selection}"]`);
    const before = Number(cell.textContent);
    const after = state.odds[selection];
    cell.textContent = after.toFixed(2);
    if (!Number.isNaN(before) && after !== before) flash(cell, after > before ? "up" : "down");
  }
});
stream.addEventListener("match", (event) => {
  const row = rows.get(event.detail.match);
  if (row) row.querySelector(".status").textContent = event.detail.status;
});
stream.start();
window.oddstream = stream; // for the console and the browser tests
