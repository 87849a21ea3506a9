// The reality check's timing and words (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { durationText, netText, nextReminder } from "../static/frontend/js/lib/reality-check.js";

const MINUTE = 60_000;

test("reminders fall on whole intervals since the session began", () => {
  const start = 1_000_000;
  assert.deepEqual(nextReminder(start, 60 * 60, start), { index: 1, delayMs: 60 * MINUTE });
  assert.deepEqual(nextReminder(start, 60 * 60, start + 59 * MINUTE), { index: 1, delayMs: MINUTE });
  assert.deepEqual(nextReminder(start, 60 * 60, start + 60 * MINUTE), { index: 2, delayMs: 60 * MINUTE });
  assert.deepEqual(nextReminder(start, 15 * 60, start + 100 * MINUTE), { index: 7, delayMs: 5 * MINUTE });
});

test("a clock behind the session's start still waits one whole interval", () => {
  assert.deepEqual(nextReminder(10 * MINUTE, 60 * 60, 0), { index: 1, delayMs: 70 * MINUTE });
});

test("time spent and net result are shown in words", () => {
  assert.equal(durationText(59), "0 min");
  assert.equal(durationText(45 * 60), "45 min");
  assert.equal(durationText(65 * 60), "1 h 05 min");
  assert.equal(netText("12.5"), "+12.50");
  assert.equal(netText("-25.00"), "-25.00");
  assert.equal(netText("0.00"), "0.00");
});
