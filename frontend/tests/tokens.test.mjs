// A JWT sign-in kept alive in one tab, and a token socket kept live through its rotations
// (node --test, with a simulated clock, a fake token server and fake sockets).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../static/frontend/js/lib/api.js";
import { TOKENS_KEY, TokenSession, jwtClaims, refreshDelayMs } from "../static/frontend/js/lib/tokens.js";
import { OddsStream } from "../static/frontend/js/oddstream-client.js";

const ACCESS_SECONDS = 4;
const flush = () => new Promise((resolve) => setImmediate(resolve));

function jwt(claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

// Timers that fire when the simulated clock passes them.
class Clock {
  constructor(start = 1_800_000_000_000) {
    this.nowMs = start;
    this.timers = new Map();
    this.next = 1;
    this.now = () => this.nowMs;
    this.setTimer = (fn, ms) => {
      const id = this.next++;
      this.timers.set(id, { fn, at: this.nowMs + ms });
      return id;
    };
    this.clearTimer = (id) => this.timers.delete(id);
  }

  async advance(ms) {
    const end = this.nowMs + ms;
    for (;;) {
      await flush();
      const due = [...this.timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].at);
      due[1].fn();
    }
    this.nowMs = end;
    await flush();
  }
}

class MemoryStorage {
  constructor(items = {}) { this.items = new Map(Object.entries(items)); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
  removeItem(key) { this.items.delete(key); }
}

// simplejwt as the pages see it: a pair per sign-in, rotation with blacklisting, short access tokens.
class TokenServer {
  constructor(clock) {
    this.clock = clock;
    this.issued = 0;
    this.live = new Set(); // refresh tokens not yet used
    this.requests = [];
    this.down = false;
  }

  pair() {
    const exp = Math.floor(this.clock.now() / 1000) + ACCESS_SECONDS;
    this.issued += 1;
    const refresh = jwt({ token_type: "refresh", n: this.issued, exp: exp + 86400 });
    this.live.add(refresh);
    return { access: jwt({ token_type: "access", user_id: 7, n: this.issued, exp }), refresh };
  }

  request = async (method, path, { body, headers = {} } = {}) => {
    this.requests.push({ method, path, body, headers });
    await flush();
    if (this.down) throw new ApiError(0, null, `${method} ${path}`);
    if (path === "/api/auth/token/") return this.pair();
    if (path === "/api/auth/token/refresh/") {
      await this.refreshGate; // a slow answer, when a test holds it back
      if (!this.live.delete(body.refresh)) throw new ApiError(401, { code: "token_not_valid" }, `${method} ${path}`);
      return this.pair();
    }
    if (path === "/api/auth/logout/") {
      this.live.delete(body.refresh);
      return null;
    }
    if (path === "/api/me/") {
      const access = headers.Authorization?.slice("Bearer ".length);
      if (!access || jwtClaims(access).exp * 1000 <= this.clock.now()) throw new ApiError(401, {}, `${method} ${path}`);
      return { id: 7 };
    }
    throw new Error(`unexpected ${method} ${path}`);
  };
}

// Sockets of a Daphne that closes a token's socket (4401) once the token has expired.
class FakeSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.token = new URL(url).searchParams.get("token");
    FakeSocket.instances.push(this);
  }
  open() { this.readyState = 1; this.onopen?.(); }
  send() {}
  close() { this.readyState = 3; }
  serverClose(code) { this.readyState = 3; this.onclose?.({ code, reason: "" }); }
}

function expireSockets(clock) {
  for (const socket of FakeSocket.instances) {
    if (socket.readyState === 0) socket.open();
    if (socket.readyState === 1 && socket.token && jwtClaims(socket.token).exp * 1000 <= clock.now()) socket.serverClose(4401);
  }
}

function page({ clock, server, storage = new MemoryStorage() }) {
  FakeSocket.instances = [];
  const session = new TokenSession({ storage, request: server.request, now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer });
  const stream = new OddsStream("ws://test/ws/blog/", {
    token: () => session.access,
    refreshToken: (used) => session.accessAfter(used),
    WebSocketImpl: FakeSocket,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    heartbeatTimeoutMs: 3_600_000,
    random: () => 0.5,
  });
  // As pages/ws-demo.js wires them: a new credential reconnects the socket at once.
  session.addEventListener("change", () => stream.renew());
  const statuses = [];
  stream.addEventListener("status", (e) => statuses.push(e.detail.status));
  return { session, stream, storage, statuses };
}

// A page signed in, its socket open with the access token.
async function signedInAndLive() {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const wired = page({ clock, server });
  await wired.session.signIn("reader@example.com", "pw");
  wired.stream.start();
  expireSockets(clock);
  return { clock, server, ...wired };
}

test("an access token is refreshed shortly before it expires, never in under a second", () => {
  const now = 1_000_000_000;
  assert.equal(refreshDelayMs(now / 1000 + 300, now), 270_000); // 5-minute token: 30 s early
  assert.equal(refreshDelayMs(now / 1000 + 10, now), 8_000); // short-lived: a fifth early
  assert.equal(refreshDelayMs(now / 1000 - 60, now), 1_000); // already expired: at once
});

test("jwtClaims reads exp and user_id from a base64url payload", () => {
  assert.deepEqual(jwtClaims(jwt({ exp: 1795292462, user_id: 7, name: "é?>" })), { exp: 1795292462, user_id: 7, name: "é?>" });
  assert.equal(jwtClaims("not-a-jwt"), null);
  assert.equal(jwtClaims(""), null);
});

test("the socket stays live through many rotations: each new token reconnects it before the old one expires", async () => {
  const { clock, server, session, stream, statuses } = await signedInAndLive();
  for (let second = 0; second < 5 * ACCESS_SECONDS; second += 1) {
    await clock.advance(1000);
    expireSockets(clock); // the server's 4401 for any socket whose token has expired
    const live = FakeSocket.instances.at(-1);
    assert.equal(live.readyState, 1, `no live socket at ${second + 1} s`);
    assert.ok(jwtClaims(live.token).exp * 1000 > clock.now(), "the live socket carries an expired token");
  }
  assert.ok(server.issued >= 5, `only ${server.issued} pairs issued`);
  assert.ok(!statuses.includes("offline"), statuses.join());
  assert.equal(stream.status, "open");
  assert.equal(FakeSocket.instances.filter((socket) => socket.readyState === 1).length, 1);
});

test("a 4401 the page did not prevent (its refresh was late) refreshes and reconnects, never offline for good", async () => {
  const { clock, session, statuses } = await signedInAndLive();
  clock.clearTimer(session.timer); // a sleeping laptop: the scheduled refresh never ran
  await clock.advance(ACCESS_SECONDS * 1000);
  expireSockets(clock); // 4401: the stream asks the session for a newer token
  await clock.advance(100);
  expireSockets(clock);
  const live = FakeSocket.instances.at(-1);
  assert.equal(live.readyState, 1);
  assert.ok(jwtClaims(live.token).exp * 1000 > clock.now());
  assert.ok(!statuses.includes("offline"), statuses.join());
});

test("a reload after expiry keeps the user signed in: the refresh before the socket exists keeps the rotated tokens", async () => {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const saved = server.pair();
  const storage = new MemoryStorage({ [TOKENS_KEY]: JSON.stringify(saved) });
  await clock.advance((ACCESS_SECONDS + 60) * 1000); // the tab was away: the access token expired
  const { session, stream } = page({ clock, server, storage });
  const storedWhenHeard = [];
  session.addEventListener("change", () => storedWhenHeard.push(JSON.parse(storage.getItem(TOKENS_KEY))));
  await session.restore(); // before stream.start(): its renew() is a no-op, not a TypeError
  assert.ok(session.signedIn);
  assert.notEqual(session.access, saved.access);
  assert.deepEqual(JSON.parse(storage.getItem(TOKENS_KEY)), { access: session.access, refresh: session.refresh });
  assert.deepEqual(storedWhenHeard, [{ access: session.access, refresh: session.refresh }]);
  assert.equal(FakeSocket.instances.length, 0);
  stream.start();
  assert.equal(FakeSocket.instances[0].token, session.access);
});

test("a refused refresh token signs out; no answer keeps the tokens and tries again", async () => {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const { session, storage } = page({ clock, server });
  await session.signIn("reader@example.com", "pw");
  const failures = [];
  session.addEventListener("refresh-failed", (e) => failures.push(e.detail.signedOut));

  server.down = true;
  await clock.advance(ACCESS_SECONDS * 1000); // the scheduled refresh finds no server
  assert.ok(session.signedIn, "a server that is down must not sign anyone out");
  assert.ok(storage.getItem(TOKENS_KEY));
  server.down = false;
  await clock.advance(60_000); // the retry
  assert.ok(session.signedIn);
  assert.ok(jwtClaims(session.access).exp * 1000 > clock.now());

  server.live.clear(); // the refresh token was revoked (signed out elsewhere, password changed)
  const reasons = [];
  session.addEventListener("change", (e) => reasons.push(e.detail.reason));
  assert.equal(await session.refreshNow(), false);
  assert.ok(!session.signedIn);
  assert.equal(storage.getItem(TOKENS_KEY), null);
  assert.deepEqual(reasons, ["signed-out"]);
  assert.equal(failures.at(0), false);
  assert.equal(failures.at(-1), true);
});

test("one refresh at a time: the refresh token rotates, so a second one would be spent", async () => {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const { session } = page({ clock, server });
  await session.signIn("reader@example.com", "pw");
  const results = await Promise.all([session.refreshNow(), session.refreshNow(), session.accessAfter({ token: session.access })]);
  assert.deepEqual(results.slice(0, 2), [true, true]);
  assert.equal(results[2], session.access);
  assert.equal(server.requests.filter((r) => r.path === "/api/auth/token/refresh/").length, 1);
});

test("sign-out revokes the refresh token a refresh in flight brings; a refresh from before a new sign-in is thrown away", async () => {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const { session, storage } = page({ clock, server });
  await session.signIn("reader@example.com", "pw");
  const refreshing = session.refreshNow();
  await session.signOut();
  assert.equal(await refreshing, true);
  assert.ok(!session.signedIn);
  assert.equal(storage.getItem(TOKENS_KEY), null);
  assert.equal(server.live.size, 0, "a rotated refresh token was left valid");

  await session.signIn("reader@example.com", "pw");
  let answer;
  server.refreshGate = new Promise((resolve) => { answer = resolve; });
  const stale = session.refreshNow();
  await session.signIn("other@example.com", "pw");
  const current = session.access;
  answer();
  assert.equal(await stale, false);
  assert.equal(session.access, current);
});

test("a request refused for an expired access token refreshes once and is retried once", async () => {
  const clock = new Clock();
  const server = new TokenServer(clock);
  const { session } = page({ clock, server });
  await session.signIn("reader@example.com", "pw");
  clock.clearTimer(session.timer);
  await clock.advance((ACCESS_SECONDS + 1) * 1000);
  assert.deepEqual(await session.request("GET", "/api/me/"), { id: 7 });
  const me = server.requests.filter((r) => r.path === "/api/me/");
  assert.equal(me.length, 2);
  assert.notEqual(me[0].headers.Authorization, me[1].headers.Authorization);
});

test("signed out, the socket goes on anonymously", async () => {
  const { server, session, stream } = await signedInAndLive();
  await session.signOut();
  const live = FakeSocket.instances.at(-1);
  assert.equal(live.token, null);
  live.open();
  assert.equal(stream.status, "open");
  assert.deepEqual(server.requests.at(-1).body, { refresh: server.requests.find((r) => r.path === "/api/auth/logout/").body.refresh });
});
