// One match: every market live (prices ▲/▼, statuses, what can be bet), the live state and the
// event timeline, the chart of the 1X2 prices over time, and the bet slip.
import { adopt, applyMatchFrame, applyState, runClocks, stateOf } from "../components/match-view.js";
import { AccumulatorSlip } from "../components/accumulator-slip.js";
import { BetSlip, bindPriceButtons } from "../components/bet-slip.js";
import { OddsChart } from "../components/odds-chart.js";
import { TimelineView } from "../components/timeline-view.js";
import { pageStream } from "../components/page-stream.js";

const view = document.getElementById("match");
const matchId = Number(view.dataset.matchId);
const points = JSON.parse(document.getElementById("chart-data").textContent);
const chartElement = document.getElementById("odds-chart");
const teams = {
  home_team: view.querySelector('[data-role="name-home"]').textContent,
  away_team: view.querySelector('[data-role="name-away"]').textContent,
};

adopt(view, JSON.parse(document.getElementById("match-state").textContent));
const timeline = new TimelineView(document.getElementById("timeline"), {
  matchId, teams, events: JSON.parse(document.getElementById("timeline-data").textContent),
});
const stream = pageStream(`/ws/odds/${matchId}/`);
const slip = new BetSlip({ stream });
bindPriceButtons(view, slip);
const accumulator = new AccumulatorSlip(view); // picks from several matches in one bet
runClocks(view);
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
  timeline.check(state.live);
  document.getElementById("match-version").textContent = state.version;
  chart?.push(state);
});
stream.addEventListener("match", (event) => {
  if (event.detail.match !== matchId) return;
  applyMatchFrame(view, event.detail);
  timeline.merge(event.detail.events, event.detail.live);
});
stream.start();
window.matchPage = { chart, slip, timeline, state: () => stateOf(view), accumulator };
