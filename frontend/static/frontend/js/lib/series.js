// The chart's data, kept as uPlot wants it ([times, home, draw, away]) and bounded: a page
// left open all day holds the last `max` points, not every change since it loaded.
import { SELECTIONS } from "./format.js";

export function seriesFrom(points, max) {
  const recent = points.slice(-max);
  return {
    versions: recent.map((p) => p.version),
    data: [recent.map((p) => p.t), ...SELECTIONS.map((s) => recent.map((p) => p[s]))],
  };
}

// Adds a state (an `odds` frame or a snapshot entry) unless its version is already there.
// Returns whether the series changed.
export function appendState(series, state, max) {
  const last = series.versions.at(-1);
  if (last !== undefined && state.version <= last) return false;
  series.versions.push(state.version);
  series.data[0].push(Date.parse(state.ts) / 1000);
  SELECTIONS.forEach((s, i) => series.data[i + 1].push(state.odds[s]));
  while (series.versions.length > max) {
    series.versions.shift();
    for (const column of series.data) column.shift();
  }
  return true;
}
