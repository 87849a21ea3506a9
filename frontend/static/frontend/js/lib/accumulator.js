// An accumulator on the slip, without the DOM (tested under Node): several picks, one per
// match, their combined odds and return as the server computes them, and the request body.
// The book's rules (docs/bet-types.md#accumulators): 2 to MAX_LEGS legs on different matches,
// combined odds = the product of the prices rounded down to the cent, capped at 1,000.

export const MAX_LEGS = 10;
export const MAX_COMBINED_HUNDREDTHS = 100000n; // 1,000.00

const hundredths = (odds) => BigInt(Math.round(Number(odds) * 100));

// The picks with `pick` added: a pick on a match already in the slip replaces that match's
// (legs of one match are refused by the book), the same selection again removes it.
// Returns {picks, note}: `note` says what happened in words ("" when it was simply added).
export function pickToggle(picks, pick) {
  const same = picks.find((p) => p.match === pick.match);
  if (same && same.market === pick.market && same.selection === pick.selection) {
    return { picks: picks.filter((p) => p !== same), note: "Removed from the slip." };
  }
  if (same) {
    return {
      picks: picks.map((p) => (p === same ? pick : p)),
      note: "One selection per match in an accumulator: this one replaces the other pick of the match.",
    };
  }
  if (picks.length >= MAX_LEGS) return { picks, note: `An accumulator takes at most ${MAX_LEGS} selections.` };
  return { picks: [...picks, pick], note: "" };
}

// The combined odds in hundredths (a BigInt): the product rounded down to the cent, capped.
export function combinedHundredths(picks) {
  let product = 1n;
  let scale = 1n;
  for (const pick of picks) {
    product *= hundredths(pick.odds);
    scale *= 100n;
  }
  const rounded = (product * 100n) / scale; // rounded down to the cent
  return rounded > MAX_COMBINED_HUNDREDTHS ? MAX_COMBINED_HUNDREDTHS : rounded;
}

export function combinedOddsText(picks) {
  const value = combinedHundredths(picks);
  return `${value / 100n}.${String(value % 100n).padStart(2, "0")}`;
}

// What the stake returns if every leg wins, in cents (rounded down, as the book pays).
export function accumulatorReturnCents(stakeCents, picks) {
  return Number((BigInt(stakeCents) * combinedHundredths(picks)) / 100n);
}

export function accumulatorBody({ picks, stake, accept }) {
  return {
    legs: picks.map((p) => ({ match: p.match, market: p.market || "1x2", selection: p.selection, odds: p.odds })),
    stake,
    accept_odds_change: accept,
  };
}

// Whether the slip can be sent as an accumulator, or why not, in words ("" when it can).
export function accumulatorProblem(picks) {
  if (picks.length < 2) return "Add a selection from another match to make an accumulator.";
  return "";
}
