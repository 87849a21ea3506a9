// A match in play, without the DOM (tested under Node): the clock run on between frames, the
// period and score in words, and the board's order (matches in play first).

export const PERIOD_LABELS = {
  pre_match: "", first_half: "1st half", half_time: "Half-time", second_half: "2nd half", full_time: "Full time",
};
const IN_PLAY = new Set(["first_half", "half_time", "second_half"]);
const HALF = 45;

export function isInPlay(live) {
  return Boolean(live && IN_PLAY.has(live.period));
}

// What a scoreboard shows (inplay.state.clock_text): 23', 45+2', HT, FT, "" before kick-off.
export function clockText(period, minute) {
  if (period === "half_time") return "HT";
  if (period === "full_time") return "FT";
  if (minute === null || minute === undefined || period === "pre_match") return "";
  const end = period === "first_half" ? HALF : 2 * HALF;
  return minute > end ? `${end}+${minute - end}'` : `${minute}'`;
}

// The clock now, from the frame's: a running clock moves on at `rate` match minutes per real
// minute since the frame arrived (never backwards; the next frame corrects it).
export function runningClock(live, receivedAtMs, nowMs) {
  if (!live?.clock) return "";
  const { minute, running, rate, text } = live.clock;
  if (!running || minute === null || minute === undefined) return text ?? clockText(live.period, minute);
  const elapsed = Math.max(0, nowMs - receivedAtMs);
  return clockText(live.period, minute + Math.floor((elapsed * (rate || 1)) / 60000));
}

export function scoreText(live) {
  return live?.score ? `${live.score.home}–${live.score.away}` : "";
}

export function redCardsText(live) {
  const cards = live?.red_cards;
  return cards && (cards.home || cards.away) ? `red cards ${cards.home}–${cards.away}` : "";
}

// The board's order: matches in play first, then by kick-off, then by id (as the server renders it).
export function boardOrder(a, b) {
  if (a.live !== b.live) return a.live ? -1 : 1;
  if (a.kickoff !== b.kickoff) return a.kickoff - b.kickoff;
  return a.id - b.id;
}
