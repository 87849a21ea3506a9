// The pages' logic without a DOM (node --test): formatting, the slip's arithmetic, the
// direction of a change, the countdown, the connection words, the chart's bounded series,
// the Idempotency-Key per intent and what each API reply means.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  connectionText, countdown, direction, formatCents, formatOdds, moneyToCents, moveText, parseStake, potentialReturnCents,
} from "../static/frontend/js/lib/format.js";
import { BetIntent, betBody, interpretReply, isAmbiguous, oddsChangedText } from "../static/frontend/js/lib/slip.js";
import { appendState, seriesFrom } from "../static/frontend/js/lib/series.js";

test("odds and money are shown with two decimals, money with thousands separators", () => {
  assert.equal(formatOdds(2.1), "2.10");
  assert.equal(formatOdds("3.5"), "3.50");
  assert.equal(formatOdds(undefined), "–");
  assert.equal(formatCents(170000), "1,700.00");
  assert.equal(formatCents(5), "0.05");
  assert.equal(formatCents(-2500), "-25.00");
  assert.equal(moneyToCents("12.5"), 1250);
  assert.equal(moneyToCents("0.07"), 7);
  assert.equal(moneyToCents("1.234"), null);
});

test("the stake as typed: amounts in words when they are not money", () => {
  assert.deepEqual(parseStake(" 10 "), { cents: 1000, text: "10.00" });
  assert.deepEqual(parseStake("12,5"), { cents: 1250, text: "12.50" });
  assert.deepEqual(parseStake("1500"), { cents: 150000, text: "1500.00" });
  assert.match(parseStake("").error, /Enter a stake/);
  assert.match(parseStake("abc").error, /at most two decimals/);
  assert.match(parseStake("1.234").error, /at most two decimals/);
  assert.match(parseStake("0").error, /more than zero/);
  assert.match(parseStake("-3").error, /at most two decimals|more than zero/);
});

test("potential return is stake × odds rounded down to the cent, as settlement pays", () => {
  assert.equal(potentialReturnCents(1000, 2.1), 2100);
  assert.equal(potentialReturnCents(50000, 3.4), 170000);
  assert.equal(potentialReturnCents(333, 1.01), 336); // 3.3633 → 3.36
  assert.equal(potentialReturnCents(1, 1.5), 1); // 0.015 → 0.01, never rounded up
  assert.equal(potentialReturnCents(1001, 2.07), 2072); // float 2.07*100 is 206.99999…: no cent lost
});

test("a change has a direction (and words for it), so colour is never the only sign", () => {
  assert.equal(direction(2.1, 2.2), "up");
  assert.equal(direction("3.40", 1.94), "down");
  assert.equal(direction(2.1, 2.1), null);
  assert.equal(direction(Number.NaN, 2), null);
  assert.equal(moveText("down", 3.4), "down from 3.40");
  assert.equal(moveText(null, 3.4), "");
});

test("the kick-off countdown is coarse far away and to the second near kick-off", () => {
  const now = Date.UTC(2031, 0, 1, 12);
  assert.equal(countdown(now + (2 * 86400 + 3 * 3600 + 59) * 1000, now), "in 2 d 3 h");
  assert.equal(countdown(now + (5 * 3600 + 7 * 60) * 1000, now), "in 5 h 07 min");
  assert.equal(countdown(now + (4 * 60 + 9) * 1000, now), "in 04:09");
  assert.equal(countdown(now, now), "kicked off");
  assert.equal(countdown(now - 1000, now), "kicked off");
});

test("the connection indicator says live, reconnecting in N s, or offline with the reason", () => {
  const now = 1_000_000;
  assert.equal(connectionText({ status: "open" }, now), "live");
  assert.equal(connectionText({ status: "connecting" }, now), "connecting…");
  assert.equal(connectionText({ status: "closed", retryAtMs: now + 2300 }, now), "reconnecting in 3 s");
  assert.equal(
    connectionText({ status: "offline", reason: "too many sockets", retryAtMs: now + 60000 }, now),
    "offline: too many sockets (retry in 60 s)",
  );
  assert.equal(connectionText({ status: "offline", reason: "origin not allowed" }, now), "offline: origin not allowed");
});

test("one Idempotency-Key per intent: the same bet again keeps it, a change or an answer renews it", () => {
  let n = 0;
  const intent = new BetIntent(() => `k${++n}`);
  const body = betBody({ match: 1, selection: "home", stake: "10.00", odds: 2.1, accept: "none" });
  // The market goes with every bet: 1X2 unless the pick says otherwise.
  assert.deepEqual(body, { match: 1, market: "1x2", selection: "home", stake: "10.00", odds: 2.1, accept_odds_change: "none" });
  assert.equal(betBody({ match: 1, market: "correct_score", selection: "2-1", stake: "1.00", odds: 9, accept: "any" }).market, "correct_score");
  assert.equal(intent.keyFor(body), "k1");
  assert.equal(intent.keyFor({ ...body }), "k1"); // a second press (or a retry after no answer)
  assert.equal(intent.keyFor({ ...body, stake: "11.00" }), "k2"); // another bet
  intent.answered();
  assert.equal(intent.keyFor({ ...body, stake: "11.00" }), "k3"); // placed: pressing again is a new bet
  assert.equal(isAmbiguous(0), true);
  assert.equal(isAmbiguous(503), true);
  assert.equal(isAmbiguous(409), false);
  assert.equal(isAmbiguous(201), false);
});

test("each API reply, in words next to its field", () => {
  const base = { selection: "home", quoted: 2.1 };
  assert.equal(interpretReply({ ...base, status: 201, body: { id: 7 } }).kind, "accepted");
  assert.deepEqual(
    interpretReply({ ...base, status: 409, body: { code: "odds_changed", odds: { home: 1.94, draw: 3.5, away: 3.6 }, version: 4 } }),
    { kind: "odds_changed", from: 2.1, to: 1.94, version: 4 },
  );
  const invalid = interpretReply({
    ...base, status: 400,
    body: { code: "invalid", errors: { stake: ["The stake must be at least 0.10."], accept_odds_change: ["Not a valid choice."], match: ["No such match."] } },
  });
  assert.deepEqual(invalid.fields, { stake: "The stake must be at least 0.10.", accept: "Not a valid choice.", general: "No such match." });
  assert.deepEqual(interpretReply({ ...base, status: 409, body: { code: "insufficient_funds", balance: "12.00" } }).fields,
    { stake: "Your balance is 12.00: lower the stake." });
  assert.match(interpretReply({ ...base, status: 409, body: { code: "match_not_open", status: "suspended" } }).fields.general, /suspended: it takes no bets/);
  assert.match(interpretReply({ ...base, status: 409, body: { code: "market_suspended", reason: "red_card" } }).fields.general, /suspended for a moment \(red card\)/);
  assert.match(interpretReply({ ...base, status: 401, body: {} }).fields.general, /sign in again/);
  assert.match(interpretReply({ ...base, status: 403, body: { detail: "CSRF Failed: token missing." } }).fields.general, /reload/);
  const keyRequired = { code: "idempotency_key_required", detail: "Send an Idempotency-Key header." };
  assert.match(interpretReply({ ...base, status: 428, body: keyRequired }).fields.general, /out of date: reload/);
  assert.equal(isAmbiguous(428), false); // nothing was written: the next press is a new bet, with a new key
  assert.match(interpretReply({ ...base, status: 429, body: {}, retryAfter: "12" }).fields.general, /wait 12 s/);
  assert.match(interpretReply({ ...base, status: 0 }).fields.general, /same key/);
  assert.match(interpretReply({ ...base, status: 503, body: {} }).fields.general, /HTTP 503/);
  assert.match(oddsChangedText(2.1, 1.94), /from 2\.10 to 1\.94 \(worse for you\)\. Accept 1\.94\?/);
  assert.match(oddsChangedText(2.1, 2.2), /better for you/);
});

test("the chart's series is bounded and skips versions it already has", () => {
  const points = [1, 2, 3].map((v) => ({ version: v, t: v * 10, home: 2 + v / 100, draw: 3.4, away: 3.5 }));
  const series = seriesFrom(points, 3);
  assert.deepEqual(series.data[0], [10, 20, 30]);
  const state = (version) => ({ version, ts: new Date(version * 1000).toISOString(), odds: { home: 2, draw: 3, away: 4 } });
  assert.equal(appendState(series, state(3), 3), false); // already there
  assert.equal(appendState(series, state(4), 3), true);
  assert.deepEqual(series.versions, [2, 3, 4]); // the oldest fell out of the window
  assert.deepEqual(series.data.map((column) => column.length), [3, 3, 3, 3]);
  assert.equal(series.data[0].at(-1), 4);
  assert.deepEqual(seriesFrom(points, 2).versions, [2, 3]);
});
