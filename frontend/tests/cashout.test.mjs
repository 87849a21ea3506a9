// The cash-out button's words and the replies of a quote and an acceptance (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { cashoutButton, decisionText, interpretAccept, interpretQuote } from "../static/frontend/js/lib/cashout.js";

test("a live value enables the button; none says why", () => {
  assert.deepEqual(cashoutButton({ value: "9.12", reason: "" }), { enabled: true, text: "Cash out 9.12" });
  assert.deepEqual(cashoutButton({ value: null, reason: "market_suspended" }), {
    enabled: false,
    text: "Cash out: suspended for a moment",
  });
  assert.equal(cashoutButton({ value: null, reason: "something_new" }).text, "Cash out: not offered now");
});

test("a quote is offered, or refused in words", () => {
  const quoted = interpretQuote({ status: 201, body: { quote: "q1", amount: "9.12", expires_at: "2026-12-06T18:00:10Z" } });
  assert.deepEqual(quoted, { kind: "quoted", quote: "q1", amount: "9.12", expiresAt: "2026-12-06T18:00:10Z" });
  const refused = interpretQuote({ status: 409, body: { code: "cashout_unavailable", reason: "leg_lost" } });
  assert.deepEqual(refused, { kind: "refused", text: "No cash-out: a leg has lost." });
  assert.match(interpretQuote({ status: 0 }).text, /at most once/);
});

test("an acceptance cashes out, or says why not", () => {
  assert.equal(interpretAccept({ status: 200, body: { id: 4, status: "cashed_out" } }).kind, "cashed_out");
  assert.match(interpretAccept({ status: 409, body: { code: "cashout_quote_expired" } }).text, /expired/);
  assert.match(interpretAccept({ status: 409, body: { code: "market_suspended" } }).text, /suspended/);
});

test("in play, an acceptance is pending, then its decision says what came of it", () => {
  const pending = interpretAccept({ status: 202, body: { status: "pending", amount: "9.12" } });
  assert.equal(pending.kind, "pending");
  assert.match(pending.text, /9\.12 requested/);
  assert.match(interpretAccept({ status: 409, body: { code: "cashout_pending" } }).text, /waiting/);
  assert.match(interpretAccept({ status: 409, body: { code: "cashout_refused", reason: "market_suspended" } }).text, /suspended/);
  assert.equal(decisionText({ status: "accepted", amount: "9.12", reason: "" }), "Cashed out for 9.12.");
  assert.match(decisionText({ status: "refused", amount: "9.12", reason: "cashout_value_changed" }), /value moved down.*stays open/);
});
