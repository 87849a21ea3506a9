// The markets of a match, without the DOM (tested under Node): their names in words (the same
// as frontend/markets.py renders), what each selection shows and whether it can be bet now, and
// how a `match` frame moves a state the last `odds` frame left.
import { formatOdds, STATUS_LABELS, SUSPENSION_WORDS } from "./format.js";

// What a market's status is while its match is in each status (betting.models'
// MARKET_STATUS_OF_MATCH): market rows follow their match.
export const MARKET_STATUS_OF_MATCH = {
  scheduled: "suspended", open: "open", suspended: "suspended", closed: "closed", settled: "settled", void: "void",
};

function overUnderLine(key) {
  const match = /^over_under_(\d+)_(\d)$/.exec(key);
  return match ? Number(`${match[1]}.${match[2]}`) : null;
}

// The home side's handicap of an Asian handicap key: "asian_handicap_minus_1_5" is -1.5.
export function handicapLine(key) {
  const match = /^asian_handicap_(minus|plus)_(\d+)_(\d)$/.exec(key);
  if (!match) return null;
  const size = Number(`${match[2]}.${match[3]}`);
  return match[1] === "minus" ? -size : size;
}

const signed = (line) => `${line > 0 ? "+" : line < 0 ? "-" : "+"}${Math.abs(line).toFixed(1)}`;

export function marketName(key, { home_team: home = "Home" } = {}) {
  if (key === "1x2") return "Match result";
  if (key === "double_chance") return "Double chance";
  if (key === "draw_no_bet") return "Draw no bet";
  if (key === "both_teams_to_score") return "Both teams to score";
  if (key === "correct_score") return "Correct score";
  const total = overUnderLine(key);
  if (total !== null) return `Total goals ${total.toFixed(1)}`;
  const line = handicapLine(key);
  if (line !== null) return `Handicap ${home} ${signed(line)}`;
  return key;
}

export function selectionName(key, selection, { home_team: home = "Home", away_team: away = "Away" } = {}) {
  const teams = { home, draw: "Draw", away };
  if (key === "1x2" || key === "draw_no_bet") return teams[selection] ?? selection;
  if (key === "double_chance") {
    return { home_or_draw: `${home} or draw`, home_or_away: `${home} or ${away}`, draw_or_away: `Draw or ${away}` }[selection] ?? selection;
  }
  if (key === "both_teams_to_score") return selection.charAt(0).toUpperCase() + selection.slice(1);
  if (key === "correct_score") return selection === "other" ? "Any other score" : selection;
  const total = overUnderLine(key);
  if (total !== null) return `${selection.charAt(0).toUpperCase()}${selection.slice(1)} ${total.toFixed(1)}`;
  const line = handicapLine(key);
  if (line !== null) return selection === "home" ? `${home} ${signed(line)}` : `${away} ${signed(-line)}`;
  return selection;
}

// A pick in full, as a list of bets and the slip say it: "Total goals 2.5: Over 2.5".
export function pickName(key, selection, teams = {}) {
  const name = selectionName(key, selection, teams);
  return key === "1x2" ? name : `${marketName(key, teams)}: ${name}`;
}

// A market's status as the bettor sees it: its match's while the match is not open.
export function effectiveStatus(state, key) {
  const own = state.market_status?.[key] ?? "open";
  if (!state.status || state.status === "open") return own;
  return MARKET_STATUS_OF_MATCH[state.status] ?? own;
}

// What a decided selection shows in place of its price (frontend/markets.py says the same).
export const DECIDED_WORDS = { won: "Won", lost: "Lost", void: "Void" };

// In play, how the score has already decided a selection ("won", "lost"), or "".
export function decidedOutcome(state, key, selection) {
  return state.decided?.[key]?.[selection] ?? "";
}

// Why a market takes no bets, in words: "Suspended: goal", "Closed", "Decided" (every selection
// decided by the score). Empty while it is open.
export function marketStateText(state, key) {
  const status = effectiveStatus(state, key);
  if (status === "open") {
    const decided = state.decided?.[key];
    const selections = Object.keys(state.markets?.[key] || {});
    return decided && selections.length && selections.every((s) => decided[s]) ? "Decided" : "";
  }
  const label = STATUS_LABELS[status] || status;
  const reason = status === "suspended" && state.suspended_reason ? SUSPENSION_WORDS[state.suspended_reason] || state.suspended_reason : "";
  return reason ? `${label}: ${reason}` : label;
}

// One selection now: {price (a number or null), text, bettable, why, maxStake (a string or
// null), decided ("won", "lost" or "")}. A decided selection shows its outcome for its price.
export function selectionView(state, key, selection) {
  const decided = decidedOutcome(state, key, selection);
  const price = decided ? null : state.markets?.[key]?.[selection] ?? (key === "1x2" ? state.odds?.[selection] ?? null : null);
  const status = effectiveStatus(state, key);
  let why = "";
  if (status !== "open") why = marketStateText(state, key);
  else if (decided) why = `Already ${decided}: the score has decided it`;
  else if (price === null || price === undefined) why = "Closed: no price now";
  return {
    price: price ?? null,
    text: decided ? DECIDED_WORDS[decided] ?? decided : formatOdds(price),
    bettable: !why,
    why,
    maxStake: decided ? null : state.max_stakes?.[key]?.[selection] ?? null,
    decided,
  };
}

// A `match` frame on the last full state: its status, reason and live state, and the markets
// that followed the match's old status follow the new one (the rows do, and no `odds` frame is
// published for a status change). An older frame than the state changes nothing.
export function withMatchFrame(state, frame) {
  if (!state) return state;
  if (frame.version !== undefined && state.version !== undefined && frame.version < state.version) return state;
  const before = MARKET_STATUS_OF_MATCH[state.status];
  const after = MARKET_STATUS_OF_MATCH[frame.status];
  const marketStatus = {};
  for (const [key, status] of Object.entries(state.market_status || {})) {
    marketStatus[key] = before && after && status === before ? after : status;
  }
  return {
    ...state,
    status: frame.status ?? state.status,
    suspended_reason: frame.suspended_reason ?? state.suspended_reason,
    live: frame.live === undefined ? state.live : frame.live,
    market_status: marketStatus,
  };
}

// How many markets a match offers beyond the 1X2 the board shows.
export function extraMarkets(state) {
  return Object.keys(state?.markets || {}).filter((key) => key !== "1x2").length;
}
