// The one WebSocket client of every Oddstream page (and of Node tests: no DOM needed).
//
// It connects, reconnects with exponential backoff and full jitter, treats a silent socket
// (no frame within the heartbeat timeout) as dead, keeps the last version seen per match,
// drops stale updates, asks for a resync when it sees a version gap, and on a reconnect
// re-subscribes and asks for a resync from the last version it saw of each match. It tells
// the page what happened through events: "status", "snapshot", "odds", "match", "bet",
// "wallet", "presence", "gap", "reconnecting", "closed", "fatal", "message" (any other
// frame) and "error".

// Close codes after which reconnecting cannot help (README, "Close codes").
export const FATAL_CLOSE_CODES = new Set([4401, 4404]);
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
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    this.clearTimer(this.reconnectTimer);
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

  ping() { return this.send({ action: "ping" }); }

  connectUrl() {
    const token = typeof this.token === "function" ? this.token() : this.token;
    if (!token) return this.url;
    return `${this.url}${this.url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
  }

  // --- internals -------------------------------------------------------------
  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", { status, attempt: this.attempt });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    this.setStatus("connecting");
    const socket = new this.WebSocketImpl(this.connectUrl());
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.opened += 1;
      this.setStatus("open");
      this.armSilenceTimer();
      if (this.opened > 1) this.resume();
    };
    socket.onmessage = (event) => this.onFrame(event.data);
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.clearTimer(this.silenceTimer);
      this.socket = null;
      if (this.stopped) return;
      this.setStatus("closed");
      this.emit("closed", { code: event.code, reason: event.reason });
      if (FATAL_CLOSE_CODES.has(event.code)) {
        // A bad token or an unknown match: retrying would fail the same way.
        this.stopped = true;
        this.emit("fatal", { code: event.code, reason: event.reason });
        return;
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => {}; // a close event always follows
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

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.emit("reconnecting", { delay, attempt: this.attempt });
    this.reconnectTimer = this.setTimer(() => this.connect(), delay);
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
