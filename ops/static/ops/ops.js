// The ops page: live charts of the pipeline latency and the recompute rate (uPlot, the chart
// library the match page uses), and the tables, refreshed from /ops/status.json every 5 s.
import { apiFetch } from "../frontend/js/lib/api.js"; // the pages' API module, next to this file in /static/

const REFRESH_MS = 5000;
const root = document.getElementById("ops");
const statusUrl = root.dataset.statusUrl;
// Next to this file in /static/: frontend/vendor/uplot/ (relative, so it works wherever static lives).
const UPLOT_URL = new URL("../frontend/vendor/uplot/uPlot.esm.js", import.meta.url);
const UPLOT_CSS = new URL("../frontend/vendor/uplot/uPlot.min.css", import.meta.url);

const axis = { stroke: "#8a94a0", grid: { stroke: "#26303b" }, ticks: { stroke: "#26303b" } };

function seriesData(series) {
  return {
    latency: [series.t, series.latency_p50_ms, series.latency_p99_ms],
    rate: [series.t, series.recomputes_per_second],
  };
}

async function loadCharts(series) {
  let uPlot;
  try {
    ({ default: uPlot } = await import(UPLOT_URL.href));
  } catch (error) {
    for (const id of ["latency-chart", "rate-chart"]) {
      document.getElementById(id).textContent = "Chart library not available: figures below only.";
    }
    return null;
  }
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = UPLOT_CSS.href;
  document.head.append(css);
  const width = (id) => Math.max(280, document.getElementById(id).clientWidth || 480);
  const data = seriesData(series);
  const make = (id, lines, data, unit) =>
    new uPlot(
      {
        width: width(id),
        height: 200,
        scales: { x: { time: true } },
        axes: [axis, { ...axis, values: (u, ticks) => ticks.map((v) => `${v}${unit}`) }],
        series: [{ label: "Time" }, ...lines.map((line) => ({ ...line, width: 2, spanGaps: false }))],
      },
      data,
      document.getElementById(id),
    );
  return {
    latency: make(
      "latency-chart",
      [
        { label: "p50 ms", stroke: "#4ea1ff" },
        { label: "p99 ms", stroke: "#e36bd2", dash: [6, 4] },
      ],
      data.latency,
      " ms",
    ),
    rate: make("rate-chart", [{ label: "recomputes/s", stroke: "#f2b134" }], data.rate, "/s"),
  };
}

function rows(table, entries, empty) {
  table.replaceChildren(
    ...(entries.length ? entries : [[empty, ""]]).map(([name, value]) => {
      const row = document.createElement("tr");
      for (const text of [name, value]) {
        const cell = document.createElement("td");
        cell.textContent = String(text);
        row.append(cell);
      }
      return row;
    }),
  );
}

function render(status, charts) {
  const fixed = (value) => (value == null ? "–" : value.toFixed(1));
  const pipeline = status.pipeline;
  document.getElementById("latency-now").textContent =
    `p50 ${fixed(pipeline.latency_p50_ms)} ms · p99 ${fixed(pipeline.latency_p99_ms)} ms · max ${fixed(pipeline.latency_max_ms)} ms (last 5 min)`;
  document.getElementById("rate-now").textContent = `${pipeline.versions_last_5_min} odds versions in the last 5 minutes`;
  document.getElementById("uncounted").textContent =
    `${status.uncounted.bets} on ${status.uncounted.matches} matches`;
  const inplay = status.inplay;
  document.getElementById("matches-in-play").textContent = inplay.matches_in_play;
  document.getElementById("markets-suspended").textContent = inplay.markets_suspended;
  document.getElementById("feed-lag").textContent =
    `p50 ${fixed(inplay.feed_lag_ms.p50)} ms · p99 ${fixed(inplay.feed_lag_ms.p99)} ms`;
  document.getElementById("bets-pending").textContent = inplay.bets_pending;
  document.getElementById("bet-decision").textContent =
    `p50 ${fixed(inplay.bet_decision_ms.p50)} ms · p99 ${fixed(inplay.bet_decision_ms.p99)} ms`;
  document.getElementById("feed-waiting").textContent =
    `${inplay.feed_events.waiting} of ${inplay.feed_events.received}`;
  const workers = document.getElementById("workers");
  workers.replaceChildren(
    ...(status.workers.length ? status.workers : ["no worker answered"]).map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      if (!status.workers.length) item.className = "error";
      return item;
    }),
  );
  rows(document.getElementById("queues"), Object.entries(status.queues).map(([q, n]) => [q, n ?? "broker down"]), "");
  rows(document.getElementById("websockets"), Object.entries(status.websockets || {}), "no open socket");
  rows(
    document.getElementById("book"),
    [...Object.entries(status.matches), ["Bets", status.bets.count]],
    "",
  );
  if (charts) {
    const data = seriesData(status.series);
    charts.latency.setData(data.latency);
    charts.rate.setData(data.rate);
  }
}

async function refresh(charts) {
  try {
    const reply = await apiFetch("GET", statusUrl);
    if (reply.ok) render(reply.body, charts);
  } catch (error) {
    // A missed refresh is retried at the next tick; the page keeps the last figures.
  }
  setTimeout(() => refresh(charts), REFRESH_MS);
}

const initial = JSON.parse(document.getElementById("ops-series").textContent);
loadCharts(initial).then((charts) => setTimeout(() => refresh(charts), REFRESH_MS));
