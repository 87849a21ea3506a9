// The match page's chart of the three 1X2 prices over time (uPlot, vendored). It extends
// with every new version and keeps a bounded window.
import uPlot from "../../vendor/uplot/uPlot.esm.js";
import { appendState, seriesFrom } from "../lib/series.js";

// Colours told apart with the common colour-vision deficiencies, and a dash per line besides.
const LINES = [
  { label: "Home (1)", stroke: "#4ea1ff", dash: [] },
  { label: "Draw (X)", stroke: "#f2b134", dash: [6, 4] },
  { label: "Away (2)", stroke: "#e36bd2", dash: [2, 3] },
];

export class OddsChart {
  constructor(element, points, { maxPoints = 200 } = {}) {
    this.element = element;
    this.maxPoints = maxPoints;
    this.series = seriesFrom(points, maxPoints);
    const axis = { stroke: "#8a94a0", grid: { stroke: "#26303b" }, ticks: { stroke: "#26303b" } };
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 260,
        // One point alone would make uPlot span years: show a minute either side instead.
        scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) } },
        axes: [axis, { ...axis, values: (u, ticks) => ticks.map((v) => v.toFixed(2)) }],
        series: [{ label: "Time" }, ...LINES.map((l) => ({ ...l, width: 2, points: { show: true, size: 4 } }))],
        legend: { live: true },
      },
      this.series.data,
      element,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: 260 })).observe(element);
    element.dataset.points = String(this.series.versions.length);
  }

  width() {
    return Math.max(240, Math.floor(this.element.clientWidth));
  }

  push(state) {
    if (!appendState(this.series, state, this.maxPoints)) return;
    this.plot.setData(this.series.data);
    this.element.dataset.points = String(this.series.versions.length);
  }
}
