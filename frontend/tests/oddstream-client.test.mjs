// Unit tests of the browser client, with a fake WebSocket and fake timers (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { OddsStream, backoffDelay, jwtRefresher } from "../static/frontend/js/oddstream-client.js";

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

test("a connect that never opens nor fails is abandoned after the heartbeat timeout", () => {
  const { stream, clock } = makeStream();
  stream.start();
  assert.equal(stream.status, "connecting");
  clock.fire((t) => t.ms === 1000);
  assert.equal(stream.status, "closed");
  assert.equal(stream.attempt, 1); // a reconnect is scheduled
  clock.fire((t) => t.ms !== 1000);
  assert.equal(FakeSocket.instances.length, 2);
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

test("a reconnect re-subscribes and asks for a resync from the last version of each match", () => {
  const { stream, clock } = makeStream({ backoff: { initialMs: 100, maxMs: 1000 } });
  stream.start();
  const first = FakeSocket.instances[0];
  first.open();
  first.receive({ type: "snapshot", matches: [{ match: 1, version: 4, odds: {} }] });
  stream.subscribe([9]);
  first.receive({ type: "snapshot", matches: [{ match: 9, version: 2, odds: {} }] });
  first.drop();
  clock.fire((t) => t.ms === 50);
  const second = FakeSocket.instances[1];
  second.open();
  assert.deepEqual(second.sent, [
    { action: "subscribe", matches: [9] },
    { action: "resync", match: 1, since: 4 },
    { action: "resync", match: 9, since: 2 },
  ]);
  second.receive({ type: "snapshot", resync: true, matches: [{ match: 1, version: 6, odds: {} }] });
  assert.equal(stream.versions.get(1), 6);
});

test("the first connection sends no resync; unsubscribed matches are forgotten", () => {
  const { stream } = makeStream();
  stream.start();
  const ws = FakeSocket.instances[0];
  ws.open();
  ws.receive({ type: "snapshot", matches: [{ match: 3, version: 1, odds: {} }] });
  assert.deepEqual(ws.sent, []);
  stream.unsubscribe([3]);
  assert.equal(stream.versions.has(3), false);
  assert.deepEqual(ws.sent, [{ action: "unsubscribe", matches: [3] }]);
});

test("a bad token (4401, no refresh) or an unknown match (4404) stops reconnecting", () => {
  for (const code of [4401, 4404]) {
    const { stream, clock } = makeStream();
    const fatal = [];
    stream.addEventListener("fatal", (e) => fatal.push(e.detail.code));
    stream.start();
    FakeSocket.instances[0].open();
    FakeSocket.instances[0].drop(code);
    clock.fire();
    assert.equal(FakeSocket.instances.length, 1);
    assert.deepEqual(fatal, [code]);
  }
});

test("too slow (4408) reconnects with backoff", () => {
  const { stream, clock } = makeStream();
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4408);
  clock.fire((t) => t.ms !== 1000);
  assert.equal(FakeSocket.instances.length, 2);
});

test("the token is sent in the query string, fresh at every connect", () => {
  let n = 0;
  const { stream } = makeStream({ token: () => `t${++n}` });
  stream.url = "ws://test/ws/odds/?x=1";
  stream.start();
  assert.equal(FakeSocket.instances[0].url, "ws://test/ws/odds/?x=1&token=t1");
});

test("match frames update the status; a newer version there is a gap", () => {
  const { stream } = makeStream();
  const statuses = [];
  stream.addEventListener("match", (e) => statuses.push(e.detail.status));
  stream.start();
  const ws = FakeSocket.instances[0];
  ws.open();
  ws.receive({ type: "snapshot", matches: [{ match: 2, version: 5, odds: {}, status: "open" }] });
  ws.receive({ type: "match", match: 2, version: 5, status: "suspended" });
  assert.equal(stream.states.get(2).status, "suspended");
  assert.deepEqual(ws.sent, []);
  ws.receive({ type: "match", match: 2, version: 7, status: "open" });
  assert.deepEqual(ws.sent, [{ action: "resync", match: 2, since: 5 }]);
  assert.deepEqual(statuses, ["suspended", "open"]);
});

test("presence frames reach the page", () => {
  const { stream } = makeStream();
  const counts = [];
  stream.addEventListener("presence", (e) => counts.push(e.detail.count));
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].receive({ type: "presence", stream: "blog", count: 12 });
  assert.deepEqual(counts, [12]);
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("expired credentials (4401): refresh, reconnect with the new token at once, resume by version", async () => {
  let refreshes = 0;
  const { stream, clock } = makeStream({ token: "old", refreshToken: async () => `new${++refreshes}` });
  const statuses = [];
  stream.addEventListener("status", (e) => statuses.push(e.detail.status));
  stream.start();
  const first = FakeSocket.instances[0];
  assert.equal(first.url, "ws://test/ws/odds/?token=old");
  first.open();
  first.receive({ type: "snapshot", matches: [{ match: 1, version: 4, odds: {} }] });
  stream.subscribe([9]);
  first.receive({ type: "snapshot", matches: [{ match: 9, version: 2, odds: {} }] });
  first.drop(4401);
  await flush();
  // No backoff timer: the new socket is already there, with the new token.
  assert.equal(FakeSocket.instances.length, 2);
  const second = FakeSocket.instances[1];
  assert.equal(second.url, "ws://test/ws/odds/?token=new1");
  second.open();
  assert.deepEqual(second.sent, [
    { action: "subscribe", matches: [9] },
    { action: "resync", match: 1, since: 4 },
    { action: "resync", match: 9, since: 2 },
  ]);
  assert.equal(stream.status, "open");
  assert.ok(!statuses.includes("offline"));
  // A later expiry refreshes again (the guard resets once a connection opened).
  second.drop(4401);
  await flush();
  assert.equal(FakeSocket.instances[2].url, "ws://test/ws/odds/?token=new2");
  assert.equal([...clock.timers.values()].filter((t) => t.ms !== 1000).length, 0);
});

test("4401 again before any open, or a failed refresh, goes offline with the reason", async () => {
  const { stream } = makeStream({ token: "old", refreshToken: async () => "still-bad" });
  const fatal = [];
  stream.addEventListener("fatal", (e) => fatal.push(e.detail.code));
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401);
  await flush();
  FakeSocket.instances[1].drop(4401); // refused again, never opened
  await flush();
  assert.equal(FakeSocket.instances.length, 2);
  assert.deepEqual(fatal, [4401]);
  assert.equal(stream.status, "offline");

  const failing = makeStream({ token: "old", refreshToken: async () => { throw new Error("refresh token expired"); } });
  const reasons = [];
  failing.stream.addEventListener("status", (e) => reasons.push(e.detail.reason));
  failing.stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401);
  await flush();
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(failing.stream.status, "offline");
  assert.match(reasons.at(-1), /refresh failed: refresh token expired/);
});

test("a session socket (no token) closed with 4401 does not try to refresh", async () => {
  let called = false;
  const { stream } = makeStream({ refreshToken: async () => { called = true; return "x"; } });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401);
  await flush();
  assert.equal(called, false);
  assert.equal(stream.status, "offline");
});

test("too many sockets (4429): offline with the reason, and only one retry after the long cool-down", () => {
  const { stream, clock } = makeStream({ cooldownMs: 60000 });
  const statuses = [];
  stream.addEventListener("status", (e) => statuses.push(e.detail));
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].onclose({ code: 4429, reason: "too many sockets for this user" });
  assert.equal(stream.status, "offline");
  assert.deepEqual(statuses.at(-1), {
    status: "offline", attempt: 0, reason: "too many sockets for this user", retryInMs: 60000,
  });
  // Nothing short is pending: only the cool-down.
  assert.deepEqual([...clock.timers.values()].map((t) => t.ms), [60000]);
  clock.fire();
  assert.equal(FakeSocket.instances.length, 2);
});

test("too many bad frames (4400): offline with the reason, then one retry after the cool-down", () => {
  const { stream, clock } = makeStream({ cooldownMs: 60000 });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].onclose({ code: 4400, reason: "too many bad frames" });
  assert.equal(stream.status, "offline");
  assert.deepEqual([...clock.timers.values()].map((t) => t.ms), [60000]);
  clock.fire();
  assert.equal(FakeSocket.instances.length, 2);
});

test("jwtRefresher posts the refresh token and hands over the rotated pair", async () => {
  const calls = [];
  const stored = {};
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return { ok: true, status: 200, json: async () => ({ access: "A2", refresh: "R2" }) };
  };
  const refresh = jwtRefresher({ refresh: () => "R1", onTokens: (t) => Object.assign(stored, t), fetchImpl });
  assert.equal(await refresh(), "A2");
  assert.equal(calls[0].url, "/api/auth/token/refresh/");
  assert.deepEqual(JSON.parse(calls[0].init.body), { refresh: "R1" });
  assert.deepEqual(stored, { access: "A2", refresh: "R2" });
  const refused = jwtRefresher({
    refresh: "R1",
    fetchImpl: async () => ({ ok: false, status: 401, json: async () => ({ detail: "Token is blacklisted" }) }),
  });
  await assert.rejects(refused, /Token is blacklisted/);
});

test("renew() reconnects at once with the rotated token; the old socket's late 4401 changes nothing", () => {
  let token = "access-1";
  const { stream, clock } = makeStream({ token: () => token, refreshToken: async () => { throw new Error("not called"); } });
  const fatal = [];
  stream.addEventListener("fatal", (e) => fatal.push(e.detail));
  stream.start();
  const first = FakeSocket.instances[0];
  first.open();
  first.receive({ type: "snapshot", matches: [{ match: 1, version: 4, odds: {} }] });
  for (const next of ["access-2", "access-3", "access-4"]) {
    const old = FakeSocket.instances.at(-1);
    token = next;
    stream.renew();
    const fresh = FakeSocket.instances.at(-1);
    assert.notEqual(fresh, old);
    assert.equal(fresh.url, `ws://test/ws/odds/?token=${next}`);
    assert.equal(old.readyState, 3); // closed by the client, not left to expire
    old.drop(4401); // the server's close for the old token, arriving late: not this stream's any more
    old.receive({ type: "odds", match: 1, version: 99, odds: {} }); // nor its frames
    fresh.open();
    assert.deepEqual(fresh.sent, [{ action: "resync", match: 1, since: 4 }]);
  }
  assert.equal(FakeSocket.instances.length, 4);
  assert.equal(stream.status, "open");
  assert.equal(stream.versions.get(1), 4);
  assert.deepEqual(fatal, []);
  assert.equal([...clock.timers.values()].filter((t) => t.ms !== 1000).length, 0); // no backoff pending
});

test("renew() while connecting abandons the attempt that carries the old token", () => {
  let token = "old";
  const { stream } = makeStream({ token: () => token });
  stream.start();
  token = "new";
  stream.renew();
  assert.equal(FakeSocket.instances.length, 2);
  assert.equal(FakeSocket.instances[0].readyState, 3);
  assert.equal(FakeSocket.instances[1].url, "ws://test/ws/odds/?token=new");
});

test("renew() restarts a stream stopped on its old credential, never one the page stopped", () => {
  let token = "revoked";
  const { stream } = makeStream({ token: () => token });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401); // no refreshToken callback: offline
  assert.equal(stream.status, "offline");
  token = null; // signed out: the page goes on anonymously
  stream.renew();
  assert.equal(FakeSocket.instances.length, 2);
  assert.equal(FakeSocket.instances[1].url, "ws://test/ws/odds/");
  FakeSocket.instances[1].open();
  assert.equal(stream.status, "open");

  stream.stop();
  stream.renew();
  assert.equal(FakeSocket.instances.length, 2);
  const idle = makeStream({ token: () => "t" });
  idle.stream.renew(); // before start(): nothing to renew, and nothing thrown
  assert.equal(FakeSocket.instances.length, 0);
});

test("renew() during a 4429 cool-down waits for it; the retry carries the new token", () => {
  let token = "old";
  const { stream, clock } = makeStream({ token: () => token, cooldownMs: 60000 });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].onclose({ code: 4429, reason: "too many sockets for this user" });
  token = "new";
  stream.renew();
  assert.equal(FakeSocket.instances.length, 1);
  clock.fire((t) => t.ms === 60000);
  assert.equal(FakeSocket.instances[1].url, "ws://test/ws/odds/?token=new");
});

test("a 4401 refresh answered after the page renewed the stream is ignored", async () => {
  let token = "old";
  let answer;
  const { stream } = makeStream({
    token: () => token,
    refreshToken: ({ token: used }) => new Promise((resolve) => { answer = () => resolve(`after-${used}`); }),
  });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401); // asks for a token...
  token = "rotated-by-the-page";
  stream.renew(); // ...while the page's own refresh lands first
  answer();
  await flush();
  assert.equal(FakeSocket.instances.length, 2);
  assert.equal(FakeSocket.instances[1].url, "ws://test/ws/odds/?token=rotated-by-the-page");
  assert.notEqual(stream.status, "offline");
});

test("4401 with a token function: the callback gets the token the socket used, and the reconnect reads the function", async () => {
  let token = "expired";
  const used = [];
  const { stream } = makeStream({
    token: () => token,
    refreshToken: async ({ token: spent }) => { used.push(spent); token = "fresh"; return token; },
  });
  stream.start();
  FakeSocket.instances[0].open();
  FakeSocket.instances[0].drop(4401);
  await flush();
  assert.deepEqual(used, ["expired"]);
  assert.equal(FakeSocket.instances[1].url, "ws://test/ws/odds/?token=fresh");
});
