// The one WebSocket client of every Oddstream page (and of Node tests: no DOM needed).
//
// It connects, reconnects with exponential backoff and full jitter, treats a silent socket
// (no frame within the heartbeat timeout, or no open within it) as dead, keeps the last
// version seen per match, drops stale updates, asks for a resync when it sees a version
// gap, and on a reconnect re-subscribes and asks for a resync from the last version it saw
// of each match. It tells
// the page what happened through events: "status", "snapshot", "odds", "match", "bet",
// "wallet", "presence", "gap", "reconnecting", "refreshed", "closed", "fatal", "message"
// (any other frame) and "error".
//
// A socket's authority ends with its credential: the server closes a token's socket (4401)
// when the token expires. A page that rotates its token calls `renew()`, which reconnects at
// once with the new one; a 4401 that comes anyway (a sleeping laptop) calls `refreshToken`.
//
// Statuses: "connecting", "open", "closed" (a reconnect is scheduled), "offline" (stopped, or
// cooling down after a refusal; `reason` says why).

// Close codes after which reconnecting cannot help (docs/frontend.md, "The WebSocket client and close codes").
export const CLOSE_CREDENTIALS_EXPIRED = 4401;
export const CLOSE_NOT_FOUND = 4404;
export const FATAL_CLOSE_CODES = new Set([CLOSE_CREDENTIALS_EXPIRED, CLOSE_NOT_FOUND]);
export const CLOSE_TOO_MANY_BAD_FRAMES = 4400;
export const CLOSE_TOO_MANY = 4429; // too many sockets
// After a 4400 (too many bad frames) or a 4429 (too many sockets) the server asked us to back
// off: wait this long, never the short backoff, so a refused client does not hammer it.
export const COOL_DOWN_CLOSE_CODES = new Set([CLOSE_TOO_MANY_BAD_FRAMES, CLOSE_TOO_MANY]);
const REFUSED_COOLDOWN_MS = 60000;
// Past this many matches, a resumed socket asks for one full resync instead of one per match
// (the server rate-limits client frames).
const MAX_RESYNCS_ON_RESUME = 20;

export function backoffDelay(attempt, { initialMs = 500, maxMs = 15000 } = {}, random = Math.random) {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export function wsUrl(path, location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class OddsStream extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.token = options.token || null; // a JWT access token string, or a function returning one
    this.WebSocketImpl = options.WebSocketImpl || globalThis.WebSocket;
    this.backoff = { initialMs: 500, maxMs: 15000, ...(options.backoff || {}) };
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 45000;
    this.random = options.random || Math.random;
    this.setTimer = options.setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer || ((id) => clearTimeout(id));
    this.versions = new Map(); // match id -> last version applied
    this.states = new Map(); // match id -> last state
    this.attempt = 0;
    this.status = "idle";
    this.socket = null;
    this.stopped = true;
    this.reconnectTimer = null;
    this.silenceTimer = null;
    this.subscriptions = new Set(); // matches subscribed to beyond the URL's, re-sent on reconnect
    this.opened = 0; // connections opened so far: after the first, an open is a resume
    // On 4401, a function returning a fresh access token (or a promise of one); see jwtRefresher.
    this.refreshToken = options.refreshToken || null;
    this.refreshedSinceOpen = false; // a second 4401 before any open means the refresh did not help
    this.cooldownMs = options.cooldownMs ?? REFUSED_COOLDOWN_MS;
    this.coolingDown = false; // after a 4400 or 4429: the next attempt waits for the cool-down, whatever happens
    this.failed = false; // stopped by a close code after which retrying with the same credential cannot help
    this.usedToken = null; // the token the current connection carried (null: none)
    this.connects = 0; // connect() calls so far: tells a late refresh that the stream moved on
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    this.failed = false;
    this.coolingDown = false;
    this.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.clearTimer(this.silenceTimer);
    if (this.socket) this.socket.close(1000, "client stopped");
    this.setStatus("closed");
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  subscribe(matches) {
    for (const match of matches) this.subscriptions.add(match);
    return this.send({ action: "subscribe", matches });
  }

  unsubscribe(matches) {
    for (const match of matches) {
      this.subscriptions.delete(match);
      this.versions.delete(match);
      this.states.delete(match);
    }
    return this.send({ action: "unsubscribe", matches });
  }

  resync(match) { return this.send({ action: "resync", match, since: this.versions.get(match) ?? 0 }); }

  // The credential changed (a rotated access token, a sign-in, a sign-out): reconnect with it
  // now, before the server closes the socket for the old one (4401 at its expiry). The new
  // socket resumes like any reconnect (re-subscribes, resyncs by version). A stream that
  // stopped on its old credential (4401) tries again; one stopped by the page, or
  // cooling down after a 4429, does not: its next attempt reads the new credential anyway.
  renew() {
    if ((this.stopped && !this.failed) || this.coolingDown) return;
    this.stopped = false;
    this.failed = false;
    this.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    const old = this.socket;
    this.socket = null; // its close, whenever it comes, is no longer this stream's business
    if (old) old.close(1000, "credentials renewed");
    this.attempt = 0;
    this.connect();
  }

  ping() { return this.send({ action: "ping" }); }

  connectUrl() {
    const token = (typeof this.token === "function" ? this.token() : this.token) || null;
    this.usedToken = token;
    if (!token) return this.url;
    return `${this.url}${this.url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
  }

  // --- internals -------------------------------------------------------------
  setStatus(status, extra = {}) {
    if (this.status === status && !extra.reason) return;
    this.status = status;
    this.emit("status", { status, attempt: this.attempt, ...extra });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    this.connects += 1;
    this.setStatus("connecting");
    const socket = new this.WebSocketImpl(this.connectUrl());
    this.socket = socket;
    // A connect that neither opens nor fails (a black-holed address; node's WebSocket when
    // the server is down) would otherwise wait for ever: the same timeout as a silent socket.
    this.armSilenceTimer();
    socket.onopen = () => {
      this.attempt = 0;
      this.opened += 1;
      this.refreshedSinceOpen = false;
      this.setStatus("open");
      this.armSilenceTimer();
      if (this.opened > 1) this.resume();
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.clearTimer(this.silenceTimer);
      this.socket = null;
      if (this.stopped) return;
      this.emit("closed", { code: event.code, reason: event.reason });
      if (event.code === CLOSE_CREDENTIALS_EXPIRED && this.usedToken && this.refreshToken && !this.refreshedSinceOpen) {
        this.setStatus("connecting");
        this.refreshAndReconnect(event);
        return;
      }
      if (FATAL_CLOSE_CODES.has(event.code)) {
        // Bad credentials or an unknown match: retrying would fail the same way.
        this.fail(event.code, event.reason);
        return;
      }
      if (COOL_DOWN_CLOSE_CODES.has(event.code)) {
        // The server refuses more from us for now: say so, and come back much later.
        const reason = event.reason || "the server refused the connection (too many)";
        this.setStatus("offline", { reason, retryInMs: this.cooldownMs });
        this.coolingDown = true;
        this.scheduleReconnect(this.cooldownMs);
        return;
      }
      this.setStatus("closed");
      this.scheduleReconnect();
    };
    socket.onerror = () => {}; // a close event always follows
  }

  fail(code, reason) {
    this.stopped = true;
    this.failed = true;
    this.setStatus("offline", { reason: reason || `closed with code ${code}`, code });
    this.emit("fatal", { code, reason });
  }

  async refreshAndReconnect(event) {
    // The access token expired: get a new one and reconnect at once. The open resumes the
    // subscriptions and resyncs by version, so no update falls in the gap.
    this.refreshedSinceOpen = true;
    const connects = this.connects;
    // Meanwhile the page may have renewed the stream (its own refresh rotated the token) or
    // stopped it: then this answer is stale.
    const movedOn = () => this.stopped || this.connects !== connects;
    let fresh;
    try {
      fresh = await this.refreshToken({ token: this.usedToken });
    } catch (error) {
      if (!movedOn()) this.fail(event.code, `credentials expired, and the refresh failed: ${error.message || error}`);
      return;
    }
    if (movedOn()) return;
    if (!fresh) {
      this.fail(event.code, "credentials expired, and no new token was given");
      return;
    }
    if (typeof this.token !== "function") this.token = fresh;
    this.emit("refreshed", {});
    this.connect();
  }

  resume() {
    // Whatever happened while we were away, ask for it: extra subscriptions first (each
    // answers with a snapshot), then a resync from the last version seen of each match.
    if (this.subscriptions.size) this.send({ action: "subscribe", matches: [...this.subscriptions] });
    const held = [...this.versions.keys()];
    if (held.length > MAX_RESYNCS_ON_RESUME) {
      this.send({ action: "resync" });
    } else {
      for (const match of held) this.resync(match);
    }
  }

  scheduleReconnect(delay = backoffDelay(this.attempt, this.backoff, this.random)) {
    this.attempt += 1;
    this.emit("reconnecting", { delay, attempt: this.attempt });
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null;
      this.coolingDown = false;
      this.connect();
    }, delay);
  }

  armSilenceTimer() {
    this.clearTimer(this.silenceTimer);
    this.silenceTimer = this.setTimer(() => {
      // No frame, not even a heartbeat: the connection is dead even if TCP has not noticed.
      if (this.socket) {
        const dead = this.socket;
        dead.close(4000, "heartbeat timeout");
        dead.onclose({ code: 4000, reason: "heartbeat timeout" });
      }
    }, this.heartbeatTimeoutMs);
  }

  onFrame(data) {
    this.armSilenceTimer();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.emit("error", { code: "bad_frame", message: "The server sent a frame that is not JSON." });
      return;
    }
    switch (message.type) {
      case "snapshot":
        for (const state of message.matches || []) this.apply(state, true);
        this.emit("snapshot", message);
        break;
      case "odds":
        this.onOdds(message);
        break;
      case "match":
        this.onMatch(message);
        break;
      case "heartbeat":
      case "pong":
        break;
      case "error":
        this.emit("error", message);
        break;
      default:
        this.emit(message.type || "message", message);
    }
  }

  onOdds(message) {
    const known = this.versions.get(message.match);
    if (known !== undefined && message.version <= known) return; // stale or duplicate
    if (known !== undefined && message.version > known + 1) {
      this.emit("gap", { match: message.match, have: known, got: message.version });
      this.resync(message.match);
    }
    this.apply(message, false);
  }

  onMatch(message) {
    // A status change carries the version of the prices it applies to: a newer one than we
    // hold means we missed prices.
    const known = this.versions.get(message.match);
    const state = this.states.get(message.match);
    if (state && message.version >= state.version) this.states.set(message.match, { ...state, status: message.status });
    if (known !== undefined && message.version > known) {
      this.emit("gap", { match: message.match, have: known, got: message.version });
      this.resync(message.match);
    }
    this.emit("match", message);
  }

  apply(state, fromSnapshot) {
    const known = this.versions.get(state.match);
    if (fromSnapshot && known !== undefined && state.version < known) return;
    const previous = this.states.get(state.match);
    this.versions.set(state.match, state.version);
    this.states.set(state.match, state);
    this.emit("odds", { match: state.match, state, previous, fromSnapshot });
  }
}

// A `refreshToken` callback for OddsStream: POST the refresh token to simplejwt's refresh
// endpoint, hand both new tokens to `onTokens` (the endpoint rotates the refresh token), and
// return the new access token. `refresh` is the token or a function returning it. (A page that
// refreshes on its own schedule passes its session's instead: see lib/tokens.js.)
export function jwtRefresher({ refresh, onTokens = () => {}, url = "/api/auth/token/refresh/", fetchImpl } = {}) {
  return async () => {
    const token = typeof refresh === "function" ? refresh() : refresh;
    if (!token) throw new Error("no refresh token");
    const doFetch = fetchImpl || globalThis.fetch;
    const reply = await doFetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: token }),
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.detail || `refresh refused (HTTP ${reply.status})`);
    onTokens(body);
    return body.access;
  }
}
