// One match: live prices (▲/▼, status, bets), the chart of each price over time, the
// derived markets and the bet slip.
import { applyState, runCountdowns, setStatus } from "../components/match-view.js";
import { BetSlip, bindPriceButtons } from "../components/bet-slip.js";
import { OddsChart } from "../components/odds-chart.js";
import { pageStream } from "../components/page-stream.js";

const view = document.getElementById("match");
const matchId = Number(view.dataset.matchId);
const points = JSON.parse(document.getElementById("chart-data").textContent);
const chartElement = document.getElementById("odds-chart");

const stream = pageStream(`/ws/odds/${matchId}/`);
const slip = new BetSlip({ stream });
bindPriceButtons(view, slip);
runCountdowns(view);
let chart = null;
try {
  chart = new OddsChart(chartElement, points);
} catch (error) {
  chartElement.textContent = `The chart could not be drawn (${error.message}); the prices above stay live.`;
}

stream.addEventListener("odds", (event) => {
  const { match, state } = event.detail;
  if (match !== matchId) return;
  applyState(view, state);
  document.getElementById("match-version").textContent = state.version;
  chart?.push(state);
});
stream.addEventListener("match", (event) => {
  if (event.detail.match === matchId) setStatus(view, event.detail.status);
});
stream.start();
window.matchPage = { chart, slip };
