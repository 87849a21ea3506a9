// The cash-out button's words and the replies of a quote and an acceptance (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { cashoutButton, interpretAccept, interpretQuote } from "../static/frontend/js/lib/cashout.js";

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
