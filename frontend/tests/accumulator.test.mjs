// The accumulator slip's logic (node --test): one pick per match, the combined odds and return
// computed as the book does (product rounded down to the cent, capped at 1,000), the body.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_LEGS, accumulatorBody, accumulatorProblem, accumulatorReturnCents, combinedOddsText, pickToggle,
} from "../static/frontend/js/lib/accumulator.js";

const pick = (match, selection = "home", odds = 2.1, market = "1x2") => ({ match, market, selection, odds });

test("picks are one per match: a second pick of a match replaces the first, the same one removes it", () => {
  let state = pickToggle([], pick(1));
  state = pickToggle(state.picks, pick(2, "away", 3.5));
  assert.equal(state.picks.length, 2);
  state = pickToggle(state.picks, pick(1, "draw", 3.4));
  assert.deepEqual(state.picks.map((p) => [p.match, p.selection]), [[1, "draw"], [2, "away"]]);
  assert.match(state.note, /One selection per match/);
  state = pickToggle(state.picks, pick(2, "away", 3.5));
  assert.deepEqual(state.picks.map((p) => p.match), [1]);
});

test("at most ten legs", () => {
  let picks = [];
  for (let match = 1; match <= MAX_LEGS; match += 1) picks = pickToggle(picks, pick(match)).picks;
  const state = pickToggle(picks, pick(99));
  assert.equal(state.picks.length, MAX_LEGS);
  assert.match(state.note, /at most 10/);
});

test("combined odds and return are the book's: the product rounded down, capped at 1,000", () => {
  assert.equal(combinedOddsText([pick(1, "home", 2.1), pick(2, "over", 1.9)]), "3.99");
  assert.equal(combinedOddsText([pick(1, "h", 1.33), pick(2, "h", 1.33), pick(3, "h", 1.33)]), "2.35");
  assert.equal(combinedOddsText(Array.from({ length: 10 }, (_, i) => pick(i, "h", 2))), "1000.00");
  assert.equal(accumulatorReturnCents(333, [pick(1, "h", 2.1), pick(2, "h", 1.9), pick(3, "h", 3.5)]), 4648); // 3.33 x 13.96
  assert.equal(accumulatorReturnCents(1000, [pick(1, "h", 2.1), pick(2, "h", 3.5)]), 7350);
});

test("the request body and what is missing", () => {
  assert.deepEqual(accumulatorBody({ picks: [pick(1), pick(2, "over", 1.9, "over_under_2_5")], stake: "5.00", accept: "none" }), {
    legs: [
      { match: 1, market: "1x2", selection: "home", odds: 2.1 },
      { match: 2, market: "over_under_2_5", selection: "over", odds: 1.9 },
    ],
    stake: "5.00",
    accept_odds_change: "none",
  });
  assert.match(accumulatorProblem([pick(1)]), /another match/);
  assert.equal(accumulatorProblem([pick(1), pick(2)]), "");
});
