// The slips' words for the account's own safer-gambling refusals (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SAFER_GAMBLING_PAGE, saferGamblingRefusal, utcMinute } from "../static/frontend/js/lib/safer-gambling.js";
import { interpretReply } from "../static/frontend/js/lib/slip.js";

const reply = (status, body) => interpretReply({ status, body, selection: "home", quoted: 2.1 });

test("a stake above the stake limit names the maximum, on the stake, with a link to the limits", () => {
  const outcome = reply(409, { code: "stake_limit", detail: "The stake 25.01 is above…", max_stake: "25.00" });
  assert.equal(outcome.kind, "refused");
  assert.equal(outcome.fields.stake, "Your stake limit is 25.00 per bet: lower the stake to 25.00 or less.");
  assert.equal(outcome.fields.general, undefined);
  assert.equal(outcome.link.href, SAFER_GAMBLING_PAGE);
  // The account's maximum is not the selection's: the slip keeps showing the selection's own.
  assert.equal(outcome.maxStake, undefined);
  assert.equal(saferGamblingRefusal({ code: "stake_limit" }).text, "The stake is above your stake limit: lower it.");
});

test("a loss limit says the period, the limit and what may still be staked", () => {
  const some = reply(409, { code: "loss_limit_reached", period: "week", limit: "1000.00", remaining: "20.00" });
  assert.equal(some.fields.stake, "This stake would pass your loss limit of 1,000.00 over the last 7 days: you may stake up to 20.00 now.");
  assert.equal(some.link.href, SAFER_GAMBLING_PAGE);
  const none = reply(409, { code: "loss_limit_reached", period: "day", limit: "50.00", remaining: "0.00" });
  assert.match(none.fields.stake, /^You have reached your loss limit of 50\.00 over the last 24 hours: no more bets/);
});

test("a break or a self-exclusion says until when, not the server's ISO time", () => {
  const onBreak = reply(403, { code: "on_break", detail: "The account is taking a break until 2026-03-09T12:00:00+00:00.", ends_at: "2026-03-09T12:00:00+00:00" });
  assert.equal(onBreak.fields.general, "You are taking a break until 2026-03-09 12:00 UTC: no bet can be placed until it ends.");
  assert.equal(onBreak.link.href, SAFER_GAMBLING_PAGE);
  const excluded = saferGamblingRefusal({ code: "self_excluded", ends_at: "2027-03-02T12:00:00Z" }, "accumulator");
  assert.equal(excluded.text, "You are self-excluded until 2027-03-02 12:00 UTC: no accumulator can be placed until it ends.");
  assert.equal(saferGamblingRefusal({ code: "on_break" }).text, "You are taking a break: no bet can be placed until it ends.");
  assert.equal(utcMinute("2026-03-09T13:30:00+01:00"), "2026-03-09 12:30 UTC");
  assert.equal(utcMinute("soon"), null);
});

test("other refusals keep their own words and no link", () => {
  assert.equal(saferGamblingRefusal({ code: "stake_too_high", max_stake: "5.00" }), null);
  const high = reply(409, { code: "stake_too_high", max_stake: "5.00" });
  assert.equal(high.maxStake, "5.00");
  assert.equal(high.link, undefined);
  assert.equal(reply(403, { detail: "CSRF Failed: token missing." }).fields.general, "This page is out of date: reload it, then bet again.");
});
