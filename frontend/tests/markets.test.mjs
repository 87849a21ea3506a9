// The match page's logic without a DOM (node --test): market words, what each selection shows
// and whether it can be bet, a `match` frame on the last state, the live clock and the board's
// order, the event timeline, and the slip's maximum stake, 409s and in-play decisions.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  effectiveStatus, extraMarkets, handicapLine, marketName, marketStateText, pickName, selectionName, selectionView, withMatchFrame,
} from "../static/frontend/js/lib/markets.js";
import { boardOrder, clockText, isInPlay, redCardsText, runningClock, scoreText } from "../static/frontend/js/lib/live.js";
import { Timeline } from "../static/frontend/js/lib/timeline.js";
import { betPhase, interpretReply, makePick, maxStakeError, rejectionText, secondsToDecision } from "../static/frontend/js/lib/slip.js";

const teams = { home_team: "Lyon", away_team: "Nice" };

test("markets and selections in words, as the server renders them (test_pages.py checks the same)", () => {
  assert.equal(marketName("over_under_2_5"), "Total goals 2.5");
  assert.equal(marketName("asian_handicap_minus_1_5", teams), "Handicap Lyon -1.5");
  assert.equal(selectionName("asian_handicap_minus_1_5", "away", teams), "Nice +1.5");
  assert.equal(selectionName("asian_handicap_plus_0_5", "home", teams), "Lyon +0.5");
  assert.equal(selectionName("double_chance", "home_or_draw", teams), "Lyon or draw");
  assert.equal(selectionName("double_chance", "draw_or_away", teams), "Draw or Nice");
  assert.equal(selectionName("correct_score", "other"), "Any other score");
  assert.equal(selectionName("both_teams_to_score", "yes"), "Yes");
  assert.equal(selectionName("over_under_0_5", "under"), "Under 0.5");
  assert.equal(pickName("1x2", "draw", teams), "Draw");
  assert.equal(pickName("draw_no_bet", "home", teams), "Draw no bet: Lyon");
  assert.equal(pickName("correct_score", "2-1"), "Correct score: 2-1");
  assert.equal(pickName("nonsense", "x"), "nonsense: x");
  assert.equal(handicapLine("asian_handicap_plus_2_5"), 2.5);
  assert.equal(handicapLine("over_under_2_5"), null);
});

const state = {
  match: 7, version: 4, status: "open", suspended_reason: "",
  odds: { home: 2.1, draw: 3.4, away: 3.5 },
  markets: { "1x2": { home: 2.1, draw: 3.4, away: 3.5 }, over_under_2_5: { over: 1.9, under: 1.95 }, correct_score: { "0-0": 9.5, other: null } },
  market_status: { "1x2": "open", over_under_2_5: "open", correct_score: "open" },
  max_stakes: { "1x2": { home: "1800.00", draw: "900.00", away: "800.00" }, over_under_2_5: { over: "2500.00", under: "2400.00" }, correct_score: { "0-0": "500.00", other: null } },
};

test("a selection can be bet only while its match and market are open and it has a price", () => {
  assert.deepEqual(selectionView(state, "over_under_2_5", "over"), { price: 1.9, text: "1.90", bettable: true, why: "", maxStake: "2500.00", decided: "" });
  const closed = selectionView(state, "correct_score", "other");
  assert.equal(closed.bettable, false);
  assert.equal(closed.text, "–");
  assert.match(closed.why, /Closed: no price now/);
  const suspended = { ...state, status: "suspended", suspended_reason: "goal" };
  assert.equal(selectionView(suspended, "over_under_2_5", "over").bettable, false);
  assert.equal(marketStateText(suspended, "over_under_2_5"), "Suspended: goal");
  const oneMarket = { ...state, market_status: { ...state.market_status, correct_score: "suspended" } };
  assert.equal(effectiveStatus(oneMarket, "correct_score"), "suspended");
  assert.equal(selectionView(oneMarket, "correct_score", "0-0").bettable, false);
  assert.equal(selectionView(oneMarket, "over_under_2_5", "over").bettable, true);
  assert.equal(marketStateText({ ...state, status: "closed" }, "1x2"), "Closed");
  assert.equal(extraMarkets(state), 2);
});

test("a selection the score has decided shows Won or Lost, takes no bet, and a market all decided says so", () => {
  const inPlay = {
    ...state,
    markets: { ...state.markets, over_under_0_5: { over: null, under: null } },
    market_status: { ...state.market_status, over_under_0_5: "open" },
    decided: { over_under_0_5: { over: "won", under: "lost" }, correct_score: { "0-0": "lost" } },
  };
  const over = selectionView(inPlay, "over_under_0_5", "over");
  assert.deepEqual([over.text, over.bettable, over.decided, over.maxStake], ["Won", false, "won", null]);
  assert.match(over.why, /Already won/);
  assert.equal(selectionView(inPlay, "over_under_0_5", "under").text, "Lost");
  assert.equal(marketStateText(inPlay, "over_under_0_5"), "Decided");
  // One correct score lost leaves the market open, and the others bettable.
  assert.equal(selectionView(inPlay, "correct_score", "0-0").text, "Lost");
  assert.equal(marketStateText(inPlay, "correct_score"), "");
  assert.equal(selectionView(inPlay, "over_under_2_5", "over").bettable, true);
  // Suspended, the suspension is what the market says.
  assert.equal(marketStateText({ ...inPlay, status: "suspended", suspended_reason: "goal" }, "over_under_0_5"), "Suspended: goal");
});

test("a match frame moves the markets that followed the match, keeps the rest, and an old one changes nothing", () => {
  const live = { period: "first_half", clock: { minute: 23, text: "23'", running: true, rate: 1 }, score: { home: 1, away: 0 }, red_cards: { home: 0, away: 0 }, seq: 2 };
  const decided = { ...state, market_status: { ...state.market_status, correct_score: "closed" } };
  const suspended = withMatchFrame(decided, { match: 7, version: 4, status: "suspended", suspended_reason: "goal", live });
  assert.equal(suspended.market_status.over_under_2_5, "suspended");
  assert.equal(suspended.market_status.correct_score, "closed");
  assert.equal(suspended.live.score.home, 1);
  const reopened = withMatchFrame(suspended, { match: 7, version: 4, status: "open", suspended_reason: "" });
  assert.equal(reopened.market_status.over_under_2_5, "open");
  assert.equal(selectionView(reopened, "over_under_2_5", "over").bettable, true);
  assert.equal(reopened.live, live); // a frame without `live` keeps the one known
  assert.equal(withMatchFrame(state, { match: 7, version: 3, status: "suspended" }), state);
});

test("the clock runs on between frames at the match's rate, and stops at half-time and full time", () => {
  const live = { period: "first_half", clock: { minute: 44, text: "44'", running: true, rate: 25 }, score: { home: 2, away: 1 }, red_cards: { home: 0, away: 1 } };
  assert.equal(runningClock(live, 0, 0), "44'");
  assert.equal(runningClock(live, 0, 2400), "45'"); // 25 match minutes a real minute: one every 2.4 s
  assert.equal(runningClock(live, 0, 3 * 2400), "45+2'");
  assert.equal(runningClock({ ...live, period: "half_time", clock: { minute: 45, text: "HT", running: false, rate: 25 } }, 0, 60000), "HT");
  assert.equal(clockText("second_half", 93), "90+3'");
  assert.equal(clockText("full_time", 94), "FT");
  assert.equal(clockText("pre_match", null), "");
  assert.equal(scoreText(live), "2–1");
  assert.equal(redCardsText(live), "red cards 0–1");
  assert.equal(redCardsText({ red_cards: { home: 0, away: 0 } }), "");
  assert.equal(isInPlay(live), true);
  assert.equal(isInPlay({ period: "full_time" }), false);
  assert.equal(isInPlay(null), false);
});

test("the board lists matches in play first, then by kick-off", () => {
  const cards = [
    { id: 3, live: false, kickoff: 100 }, { id: 1, live: true, kickoff: 300 }, { id: 2, live: false, kickoff: 50 },
    { id: 4, live: true, kickoff: 200 }, { id: 5, live: false, kickoff: 50 },
  ];
  assert.deepEqual(cards.sort(boardOrder).map((card) => card.id), [4, 1, 2, 5, 3]);
});

const ev = (sequence, kind, extra = {}) => ({ id: `e${sequence}`, sequence, kind, minute: null, team: null, applied: true, ignored_because: null, ...extra });

test("the timeline: goals with the score they made, a disallowed goal struck, ignored events left out", () => {
  const timeline = new Timeline([ev(1, "kick_off"), ev(2, "goal", { team: "home", minute: 12 })]);
  const reload = timeline.merge([ev(3, "goal", { team: "away", minute: 30 }), ev(4, "goal_disallowed", { cancels: "e3", minute: 31 }), ev(5, "kick_off", { applied: false, ignored_because: "already kicked off" })], { seq: 5 });
  assert.equal(reload, false);
  const entries = timeline.entries(teams);
  assert.deepEqual(entries.map((e) => e.text), ["Kick-off", "Goal, Lyon", "Goal, Nice (disallowed)", "Goal disallowed, Nice"]);
  assert.deepEqual(entries.map((e) => e.score), [null, "1–0", "1–0", null]);
  assert.equal(entries[2].disallowed, true);
  timeline.merge([ev(6, "red_card", { team: "away", minute: 40 }), ev(7, "penalty", { team: "home", minute: 41 }), ev(8, "half_time")], { seq: 8 });
  assert.deepEqual(timeline.entries(teams).slice(-3).map((e) => e.text), ["Red card, Nice", "Penalty to Lyon", "Half-time"]);
  timeline.merge([ev(6, "red_card", { team: "away", minute: 40 })], { seq: 8 }); // the same event again: once
  assert.equal(timeline.entries(teams).length, 7);
  timeline.merge([ev(9, "second_half"), ev(10, "full_time"), ev(11, "result_correction", { score: { home: 2, away: 0 } })], { seq: 11 });
  assert.equal(timeline.entries(teams).at(-1).text, "Result corrected: 2–0");
});

test("the timeline asks to be read again when a frame was missed or an event came out of sequence", () => {
  const timeline = new Timeline([ev(1, "kick_off")]);
  assert.equal(timeline.merge([ev(3, "goal", { team: "home", minute: 5 })], { seq: 3 }), true); // event 2 never came
  const other = new Timeline([ev(1, "kick_off"), ev(3, "goal", { team: "home", minute: 5 })]);
  assert.equal(other.merge([ev(2, "red_card", { team: "away", minute: 3 })], { seq: 3 }), true); // late: may change event 3
  assert.equal(new Timeline([]).merge([], { seq: 0 }), false);
  assert.equal(new Timeline([]).merge([], null), false);
});

test("the slip: a pick of any market, the maximum stake, and every 409 in words", () => {
  assert.deepEqual(makePick({ match: 7, selection: "over", market: "over_under_2_5", odds: 1.9 }), { match: 7, market: "over_under_2_5", selection: "over", odds: 1.9, teams: {}, status: "open" });
  assert.equal(makePick({ match: 7, selection: "home", odds: 2.1 }).market, "1x2");
  assert.equal(maxStakeError(250000, "2500.00"), "");
  assert.equal(maxStakeError(250001, "2500.00"), "The most this selection takes now is 2,500.00: lower the stake.");
  assert.equal(maxStakeError(100, "0.00"), "This selection takes no more money now.");
  assert.equal(maxStakeError(100, null), "");

  const base = { selection: "over", quoted: 1.9 };
  const tooHigh = interpretReply({ ...base, status: 409, body: { code: "stake_too_high", max_stake: "123.45", market: "over_under_2_5", selection: "over" } });
  assert.equal(tooHigh.kind, "refused");
  assert.equal(tooHigh.maxStake, "123.45");
  assert.match(tooHigh.fields.stake, /most this selection takes now is 123\.45/);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "market_suspended", reason: "red_card" } }).fields.general, /suspended for a moment \(red card\)/);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "selection_closed" } }).fields.odds, /selection is closed/);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "market_closed", status: "settled" } }).fields.general, /market is settled/);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "match_started" } }).fields.general, /kicked off/);
  const moved = interpretReply({ ...base, status: 409, body: { code: "odds_changed", odds: { over: 1.8, under: 2.0 } } });
  assert.deepEqual([moved.kind, moved.from, moved.to], ["odds_changed", 1.9, 1.8]);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "odds_changed", odds: { over: null, under: 2.0 } } }).fields.odds, /no price now/);
  assert.match(interpretReply({ ...base, status: 400, body: { errors: { market: ["Unknown market 'x'."] } } }).fields.odds, /Unknown market/);
});

test("an in-play bet: 202 is pending, then accepted or rejected with its reason", () => {
  const pending = interpretReply({ status: 202, body: { id: 9, status: "pending", stake: "5.00", odds: 2.1, market: "1x2", selection: "home" }, selection: "home", quoted: 2.1 });
  assert.equal(pending.kind, "pending");
  assert.equal(pending.bet.id, 9);
  assert.equal(interpretReply({ status: 201, body: { id: 9, status: "open" }, selection: "home", quoted: 2.1 }).kind, "accepted");
  assert.equal(betPhase({ status: "pending" }), "pending");
  assert.equal(betPhase({ status: "open" }), "accepted");
  assert.equal(betPhase({ status: "won" }), "accepted");
  assert.equal(betPhase({ status: "rejected", reason: "odds_changed" }), "rejected");
  assert.equal(rejectionText({ id: 9, status: "rejected", reason: "suspended_during_delay" }),
    "Bet #9 was not accepted: the markets were suspended during the bet delay (a goal, a card or a penalty). Your stake is back in your balance.");
  assert.match(rejectionText({ id: 9, status: "rejected", reason: "timed_out" }), /waited too long/);
  assert.match(rejectionText({ id: 9, status: "rejected", reason: "loss_limit_reached" }), /past your loss limit/);
  assert.match(rejectionText({ id: 9, status: "rejected", reason: "something_new" }), /not accepted: something_new/);
  const decideAt = Date.UTC(2026, 11, 6, 20, 23, 47, 120);
  assert.equal(secondsToDecision({ decide_at: new Date(decideAt).toISOString() }, decideAt - 5200), 6);
  assert.equal(secondsToDecision({ decide_at: new Date(decideAt).toISOString() }, decideAt + 1000), 0);
  assert.equal(secondsToDecision({ decide_at: null }, decideAt), null);
});
