// A JWT sign-in kept alive in one tab: the access and refresh tokens (sessionStorage), the
// refresh shortly before the access token expires (the refresh token rotates each time), and
// requests that carry the access token. No DOM: tested under Node with fake timers and storage.
//
// Events: "change" (`detail.reason`: "signed-in", "rotated" or "signed-out", and `why`) after the
// tokens are stored, and "refresh-failed" (`detail.error`, `detail.signedOut`). A listener cannot
// undo a change: the tokens are saved before anyone hears of them.
import { ApiError, apiRequest } from "./api.js";

export const TOKENS_KEY = "oddstream.demo.tokens"; // sessionStorage: per tab, gone when the tab closes
const REFRESH_PATH = "/api/auth/token/refresh/";
// An access token this close to its expiry is refreshed before use (a reload, a socket's reconnect).
const EXPIRY_MARGIN_MS = 5000;
const RETRY_MS = { initial: 2000, max: 60000 };

// The claims of a JWT, read without checking its signature (the server checks it): for `exp` and `user_id`.
export function jwtClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = payload + "=".repeat((4 - (payload.length % 4)) % 4);
    const bytes = Uint8Array.from(globalThis.atob(padded), (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)); // claims are UTF-8 JSON, atob gives bytes
  } catch {
    return null;
  }
}

// When to refresh an access token expiring at `exp` (seconds since the epoch): shortly before it
// expires (30 s, or a fifth of what is left for a short-lived one), and never in under a second.
export function refreshDelayMs(exp, now = Date.now()) {
  const remaining = exp * 1000 - now;
  return Math.max(1000, remaining - Math.min(30000, remaining / 5));
}

export class TokenSession extends EventTarget {
  constructor({
    storage = globalThis.sessionStorage,
    key = TOKENS_KEY,
    request = apiRequest,
    now = () => Date.now(),
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
  } = {}) {
    super();
    Object.assign(this, { storage, key, send: request, now, setTimer, clearTimer });
    this.access = null;
    this.refresh = null;
    this.timer = null;
    this.refreshing = null; // the refresh in flight: one at a time, as the refresh token rotates
    this.retryMs = RETRY_MS.initial;
    this.generation = 0; // bumped by sign-in and sign-out: a refresh from before either is stale
  }

  get signedIn() {
    return Boolean(this.access);
  }

  get claims() {
    return this.access ? jwtClaims(this.access) : null;
  }

  // When the held access token expires (ms since the epoch), or null.
  get expiresAtMs() {
    const exp = this.claims?.exp;
    return exp ? exp * 1000 : null;
  }

  // The tokens this tab held before a reload, refreshed first if the access token has expired
  // (or is about to). Resolves once the session is usable; never rejects.
  async restore() {
    let saved = null;
    try {
      saved = JSON.parse(this.storage.getItem(this.key) || "null");
    } catch {
      saved = null;
    }
    if (!saved?.access) return;
    this.access = saved.access;
    this.refresh = saved.refresh || null;
    if (this.expiringSoon()) await this.refreshNow({ why: "at load: the access token had expired" });
    else this.schedule();
  }

  expiringSoon(token = this.access) {
    const exp = token ? jwtClaims(token)?.exp : null;
    return !exp || exp * 1000 <= this.now() + EXPIRY_MARGIN_MS;
  }

  async signIn(email, password) {
    const tokens = await this.send("POST", "/api/auth/token/", { body: { email, password } });
    this.generation += 1;
    this.store(tokens.access, tokens.refresh);
    this.emit("change", { reason: "signed-in", why: `signed in as ${email}` });
  }

  // Drops the tokens whatever the server says; the error (if it could not revoke the refresh
  // token) is returned for the page to mention.
  async signOut() {
    // A refresh in flight spends the refresh token held now: revoke the one it brings instead.
    if (this.refreshing) await this.refreshing;
    const refresh = this.refresh;
    let error = null;
    if (refresh) {
      try {
        await this.send("POST", "/api/auth/logout/", { body: { refresh } }); // the refresh token is the credential
      } catch (caught) {
        error = caught;
      }
    }
    this.drop("signed out");
    return error;
  }

  // Refresh now (one refresh at a time: a second caller shares the first's). True when the
  // tokens rotated. A refused refresh token (401) signs out; no answer or a 5xx keeps the tokens
  // and tries again later, sooner than the access token expires when it can.
  refreshNow({ why = "before it expired" } = {}) {
    if (!this.refresh) return Promise.resolve(false);
    if (!this.refreshing) {
      this.refreshing = this.rotate(why).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async rotate(why) {
    const generation = this.generation;
    let tokens;
    try {
      tokens = await this.send("POST", REFRESH_PATH, { body: { refresh: this.refresh } });
    } catch (error) {
      if (generation !== this.generation) return false;
      const refused = error instanceof ApiError && (error.status === 400 || error.status === 401);
      if (refused) {
        this.drop("the sign-in expired");
      } else {
        this.scheduleIn(this.retryMs);
        this.retryMs = Math.min(RETRY_MS.max, this.retryMs * 2);
      }
      this.emit("refresh-failed", { error, signedOut: refused });
      return false;
    }
    if (generation !== this.generation) return false; // signed out or in again meanwhile
    this.retryMs = RETRY_MS.initial;
    this.store(tokens.access, tokens.refresh || this.refresh);
    this.emit("change", { reason: "rotated", why });
    return true;
  }

  // For a socket closed because its token expired (OddsStream's `refreshToken`): an access token
  // newer than the one it used, refreshed if need be; null when there is none (signed out).
  async accessAfter({ token } = {}) {
    if (this.access && this.access !== token && !this.expiringSoon()) return this.access;
    await this.refreshNow({ why: "after the socket's token expired" });
    return this.access && this.access !== token ? this.access : null;
  }

  // An API request with the access token (when held). An access token can expire between two
  // scheduled refreshes (a sleeping laptop): on a 401, refresh once and retry once.
  async request(method, path, body, { auth = true, headers = {} } = {}) {
    const send = () => {
      const sent = auth && this.access ? { ...headers, Authorization: `Bearer ${this.access}` } : headers;
      return this.send(method, path, { body, headers: sent });
    };
    try {
      return await send();
    } catch (error) {
      const expired = error instanceof ApiError && error.status === 401 && auth && this.access;
      if (!expired || !(await this.refreshNow({ why: "after the API refused it" }))) throw error;
      return send();
    }
  }

  // --- internals -------------------------------------------------------------------------
  store(access, refresh) {
    this.access = access;
    this.refresh = refresh;
    this.storage.setItem(this.key, JSON.stringify({ access, refresh }));
    this.schedule();
  }

  drop(why) {
    this.generation += 1;
    this.clearTimer(this.timer);
    this.timer = null;
    this.access = null;
    this.refresh = null;
    this.storage.removeItem(this.key);
    this.emit("change", { reason: "signed-out", why });
  }

  schedule() {
    const exp = this.claims?.exp;
    if (exp && this.refresh) this.scheduleIn(refreshDelayMs(exp, this.now()));
  }

  scheduleIn(ms) {
    this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.refreshNow();
    }, ms);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
