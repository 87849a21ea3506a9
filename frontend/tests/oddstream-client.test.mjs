// Unit tests of the browser client, with a fake WebSocket and fake timers (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { OddsStream, backoffDelay } from "../static/frontend/js/oddstream-client.js";

class FakeSocket {
  static instances = [];
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; FakeSocket.instances.push(this); }
  open() { this.readyState = 1; this.onopen?.(); }
  receive(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code = 1000, reason = "") { this.readyState = 3; }
  drop(code = 1006) { this.readyState = 3; this.onclose?.({ code, reason: "" }); }
}

function fakeTimers() {
  const timers = new Map();
  let next = 1;
  return {
    timers,
    setTimer: (fn, ms) => { const id = next++; timers.set(id, { fn, ms }); return id; },
    clearTimer: (id) => timers.delete(id),
    fire(predicate = () => true) {
      for (const [id, t] of [...timers]) if (predicate(t)) { timers.delete(id); t.fn(); }
    },
  };
}

function makeStream(extra = {}) {
  FakeSocket.instances = [];
  const clock = fakeTimers();
  const stream = new OddsStream("ws://test/ws/odds/", {
    WebSocketImpl: FakeSocket, setTimer: clock.setTimer, clearTimer: clock.clearTimer,
    random: () => 0.5, heartbeatTimeoutMs: 1000, ...extra,
  });
  return { stream, clock };
}

test("backoff grows exponentially, is capped, and is jittered", () => {
  const opts = { initialMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0.999), 99);
  assert.equal(backoffDelay(3, opts, () => 0.5), 400);
  assert.equal(backoffDelay(10, opts, () => 0.5), 500);
  assert.equal(backoffDelay(10, opts, () => 0), 0);
});

test("applies snapshot then newer versions, drops stale ones", () => {
  const { stream } = makeStream();
  const seen = [];
  stream.addEventListener("odds", (e) => seen.push(e.detail.state.version));
  stream.start();
  const ws = FakeSocket.instances[0];
  ws.open();
  ws.receive({ type: "snapshot", matches: [{ match: 1, version: 3, odds: { home: 2, draw: 3, away: 4 } }] });
  ws.receive({ type: "odds", match: 1, version: 3, odds: {} });
  ws.receive({ type: "odds", match: 1, version: 2, odds: {} });
  ws.receive({ type: "odds", match: 1, version: 4, odds: {} });
  assert.deepEqual(seen, [3, 4]);
  assert.equal(stream.versions.get(1), 4);
});

test("a version gap asks for a resync from the last version seen", () => {
  const { stream } = makeStream();
  const gaps = [];
  stream.addEventListener("gap", (e) => gaps.push(e.detail));
  stream.start();
  const ws = FakeSocket.instances[0];
  ws.open();
  ws.receive({ type: "snapshot", matches: [{ match: 7, version: 1, odds: {} }] });
  ws.receive({ type: "odds", match: 7, version: 4, odds: {} });
  assert.deepEqual(gaps, [{ match: 7, have: 1, got: 4 }]);
  assert.deepEqual(ws.sent, [{ action: "resync", match: 7, since: 1 }]);
});

test("reconnects with backoff after a drop, and resets the attempt count on open", () => {
  const { stream, clock } = makeStream({ backoff: { initialMs: 100, maxMs: 1000 } });
  const statuses = [];
  stream.addEventListener("status", (e) => statuses.push(e.detail.status));
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop();
  assert.equal(stream.attempt, 1);
  clock.fire((t) => t.ms === 50); // 0.5 * 100
  assert.equal(FakeSocket.instances.length, 2);
  FakeSocket.instances[1].open();
  assert.equal(stream.attempt, 0);
  assert.deepEqual(statuses, ["connecting", "open", "closed", "connecting", "open"]);
});

test("silence longer than the heartbeat timeout counts as a dead connection", () => {
  const { stream, clock } = makeStream();
  stream.start();
  FakeSocket.instances[0].open();
  clock.fire((t) => t.ms === 1000);
  assert.equal(stream.status, "closed");
  assert.equal(stream.attempt, 1);
});

test("error frames and unknown frames are surfaced as events", () => {
  const { stream } = makeStream();
  const errors = [];
  const bets = [];
  stream.addEventListener("error", (e) => errors.push(e.detail.code));
  stream.addEventListener("bet", (e) => bets.push(e.detail));
  stream.start();
  const ws = FakeSocket.instances[0];
  ws.open();
  ws.receive({ type: "error", code: "bad_json", message: "x" });
  ws.receive({ type: "bet", id: 5 });
  ws.onmessage({ data: "garbage" });
  assert.deepEqual(errors, ["bad_json", "bad_frame"]);
  assert.equal(bets[0].id, 5);
});
