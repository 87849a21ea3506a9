// The live blog demo: JWT sign-in, posts through the API, and their live feed from /ws/blog/.
//
// The list is the API's answer at load time, then kept current by the socket's events only:
// a write made in this tab is shown when its event comes back, exactly as in every other tab.
import { OddsStream, wsUrl } from "../oddstream-client.js";
import { ApiError, describeApiError, jwtClaims, refreshDelayMs } from "./ws-demo-lib.js";

window.wsDemo = { ready: false };
document.getElementById("served-notice").hidden = true; // the script runs

const $ = (id) => document.getElementById(id);
const LOG_LIMIT = 200;
const TOKENS_KEY = "oddstream.demo.tokens"; // sessionStorage: per tab, gone when the tab closes

// --- Messages ----------------------------------------------------------------
function showError(message) {
  const box = $("page-error");
  box.textContent = message;
  box.hidden = false;
}

function showInfo(message) {
  $("page-error").hidden = true;
  const box = $("page-info");
  box.textContent = message;
  box.hidden = false;
}

function reportFailure(action, error) {
  const words = error instanceof ApiError ? describeApiError(error) : `${error.message || error}`;
  showError(`${action} failed. ${words}`);
  log("error", `${action} failed: ${words}`);
}

// --- Live log ----------------------------------------------------------------
function clock(date = new Date()) {
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function log(kind, text, serverTs) {
  const item = document.createElement("li");
  item.className = `log__entry log__entry--${kind}`;
  item.dataset.kind = kind;
  const time = document.createElement("time");
  time.dateTime = new Date().toISOString();
  time.textContent = clock();
  const label = document.createElement("span");
  label.className = "log__kind";
  label.textContent = kind;
  const body = document.createElement("span");
  body.textContent = text;
  item.append(time, " ", label, " ", body);
  if (serverTs) {
    const sent = document.createElement("span");
    sent.className = "muted";
    sent.textContent = ` (sent ${clock(new Date(serverTs))})`;
    item.append(sent);
  }
  const list = $("event-log");
  list.prepend(item);
  while (list.children.length > LOG_LIMIT) list.lastElementChild.remove();
}

// --- Session: tokens, and who is signed in ------------------------------------
const session = { access: null, refresh: null, user: null, refreshTimer: null, countdownTimer: null };

function saveTokens() {
  if (session.access) sessionStorage.setItem(TOKENS_KEY, JSON.stringify({ access: session.access, refresh: session.refresh }));
  else sessionStorage.removeItem(TOKENS_KEY);
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, path, body, { auth = true, retry = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && session.access) headers.Authorization = `Bearer ${session.access}`;
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken(); // for a visitor signed in by session
  let reply;
  try {
    reply = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, null, `${method} ${path}`);
  }
  // An access token can expire between two scheduled refreshes (a sleeping laptop): refresh once, retry once.
  if (reply.status === 401 && auth && retry && session.refresh) {
    if (await refreshTokens({ quiet: true })) return api(method, path, body, { auth, retry: false });
  }
  const text = await reply.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!reply.ok) throw new ApiError(reply.status, data, `${method} ${path}`);
  return data;
}

function shortToken(token) {
  return `${token.slice(0, 12)}…${token.slice(-6)}`;
}

function renderSession() {
  const signedIn = Boolean(session.access);
  const claims = signedIn ? jwtClaims(session.access) : null;
  const access = $("access-token");
  access.dataset.held = String(signedIn);
  access.textContent = signedIn
    ? `held: ${shortToken(session.access)}, expires at ${claims?.exp ? clock(new Date(claims.exp * 1000)) : "?"}`
    : "none";
  const refresh = $("refresh-token");
  refresh.dataset.held = String(Boolean(session.refresh));
  const refreshClaims = session.refresh ? jwtClaims(session.refresh) : null;
  refresh.textContent = session.refresh
    ? `held: ${shortToken(session.refresh)}, expires at ${refreshClaims?.exp ? new Date(refreshClaims.exp * 1000).toLocaleString() : "?"}`
    : "none";
  $("refresh-now").disabled = !session.refresh;
  $("signout").disabled = !signedIn; // a visitor signed in by session signs out from the top bar
  const who = session.user;
  $("signed-in-as").textContent = who ? `${who.email || who.username || "user"} (#${who.id})` : "nobody";
  renderPosts();
}

function tickCountdown() {
  clearInterval(session.countdownTimer);
  const update = () => {
    const claims = session.access ? jwtClaims(session.access) : null;
    if (!claims?.exp) {
      $("next-refresh").textContent = "–";
      return;
    }
    const seconds = Math.max(0, Math.round(refreshDelayMs(claims.exp) / 1000));
    $("next-refresh").textContent = `in ${seconds}s (the access token lives until ${clock(new Date(claims.exp * 1000))})`;
  };
  update();
  session.countdownTimer = setInterval(update, 1000);
}

function scheduleRefresh() {
  clearTimeout(session.refreshTimer);
  const claims = session.access ? jwtClaims(session.access) : null;
  if (claims?.exp && session.refresh) {
    session.refreshTimer = setTimeout(() => refreshTokens(), refreshDelayMs(claims.exp));
  }
  tickCountdown();
}

let refreshing = null;
function refreshTokens({ quiet = false, why = "before it expired" } = {}) {
  // One refresh at a time: the refresh token rotates, so a second concurrent call would send a spent one.
  if (!refreshing) refreshing = doRefresh(quiet, why).finally(() => { refreshing = null; });
  return refreshing;
}

async function doRefresh(quiet, why) {
  try {
    const tokens = await api("POST", "/api/auth/token/refresh/", { refresh: session.refresh }, { auth: false });
    session.access = tokens.access;
    if (tokens.refresh) session.refresh = tokens.refresh; // rotated
    saveTokens();
    scheduleRefresh();
    renderSession();
    stream.url = blogSocketUrl(); // a reconnect presents the fresh token
    if (!quiet) log("auth", `access token refreshed ${why}`);
    return true;
  } catch (error) {
    signOutLocally();
    reportFailure("Refreshing the access token", error);
    showError("Your sign-in expired: sign in again.");
    return false;
  }
}

async function loadMe() {
  let me = null;
  try {
    me = await api("GET", "/api/me/");
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403 && error.status !== 404)) throw error;
  }
  const claims = session.access ? jwtClaims(session.access) : null;
  if (me && me.id === undefined && claims?.user_id !== undefined) me.id = claims.user_id;
  if (!me && claims?.user_id !== undefined) me = { id: claims.user_id };
  session.user = me;
}

async function signIn(email, password) {
  const tokens = await api("POST", "/api/auth/token/", { email, password }, { auth: false });
  session.access = tokens.access;
  session.refresh = tokens.refresh;
  saveTokens();
  await loadMe();
  if (session.user && !session.user.email) session.user.email = email;
  scheduleRefresh();
  renderSession();
  log("auth", `signed in as ${email}: access and refresh tokens held`);
  showInfo(`Signed in as ${email}.`);
  await restartFeed();
}

function signOutLocally() {
  clearTimeout(session.refreshTimer);
  session.access = null;
  session.refresh = null;
  session.user = null;
  saveTokens();
  tickCountdown();
  renderSession();
}

async function signOut() {
  const refresh = session.refresh;
  if (refresh) {
    try {
      await api("POST", "/api/auth/logout/", { refresh });
    } catch (error) {
      // The tokens are dropped here whatever the server says; it only could not revoke the refresh token.
      log("error", `logout: ${describeApiError(error)}`);
    }
  }
  signOutLocally();
  log("auth", "signed out: tokens dropped");
  showInfo("Signed out.");
  await restartFeed();
}

// --- Posts ---------------------------------------------------------------------
const posts = new Map(); // id -> {id, title, status, author, created_at?}

function canChange(post) {
  return Boolean(session.user && (session.user.is_staff || post.author === session.user.id));
}

function renderPosts() {
  const list = $("posts");
  const ordered = [...posts.values()].sort((a, b) => b.id - a.id);
  const keep = new Set(ordered.map((post) => String(post.id)));
  for (const item of [...list.children]) if (!keep.has(item.dataset.postId)) item.remove();
  ordered.forEach((post, index) => {
    let item = list.querySelector(`li[data-post-id="${post.id}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.postId = String(post.id);
      item.innerHTML = `<span class="post__title"></span> <span class="badge"></span>
        <span class="post__meta muted"></span>
        <span class="post__actions"><button type="button" data-action="edit" class="small">Edit</button>
        <button type="button" data-action="delete" class="small danger">Delete</button></span>`;
    }
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
    item.dataset.status = post.status;
    item.querySelector(".post__title").textContent = post.title;
    const badge = item.querySelector(".badge");
    badge.textContent = post.status;
    badge.className = `badge badge--${post.status}`;
    const mine = session.user && post.author === session.user.id;
    item.querySelector(".post__meta").textContent = `#${post.id} by ${mine ? "you" : `user #${post.author}`}`;
    item.querySelector(".post__actions").hidden = !canChange(post);
  });
  $("posts-empty").hidden = posts.size > 0;
  $("posts-count").textContent = posts.size ? `(${posts.size})` : "";
}

function flashPost(id) {
  const item = $("posts").querySelector(`li[data-post-id="${id}"]`);
  if (!item) return;
  item.classList.remove("flash");
  void item.offsetWidth; // restart the animation
  item.classList.add("flash");
}

async function loadPosts() {
  const page = await api("GET", "/api/posts/?page_size=100");
  posts.clear();
  for (const post of page.results) posts.set(post.id, post);
  renderPosts();
  if (page.count > page.results.length) log("info", `showing the newest ${page.results.length} of ${page.count} posts`);
}

function applyEvent(frame) {
  const { type, id, title, status, author } = frame;
  if (type === "post_deleted") {
    // Unpublishing withdraws the post from readers; its author gets the draft's post_updated next.
    if (frame.reason === "unpublished" && session.user && author === session.user.id) return;
    posts.delete(id);
    if (Number($("post-form").elements.id.value) === id) {
      stopEditing();
      showError(`Post #${id} was deleted (or unpublished) while you were editing it.`);
    }
  } else {
    const known = posts.get(id) || { id };
    posts.set(id, { ...known, title, status, author });
  }
  renderPosts();
  if (type !== "post_deleted") flashPost(id);
}

function startEditing(post) {
  const form = $("post-form");
  form.elements.id.value = post.id;
  form.elements.title.value = post.title;
  form.elements.body.value = post.body || "";
  form.elements.status.value = post.status;
  $("editor-title").textContent = `Edit post #${post.id}`;
  $("post-submit").textContent = "Save changes";
  $("post-cancel").hidden = false;
  form.elements.title.focus();
}

function stopEditing() {
  const form = $("post-form");
  form.reset();
  form.elements.id.value = "";
  $("editor-title").textContent = "Create post";
  $("post-submit").textContent = "Publish";
  $("post-cancel").hidden = true;
}

// --- The live feed -----------------------------------------------------------------
function blogSocketUrl() {
  // A socket with the access token is the author's: it also gets the events of their drafts.
  const url = wsUrl("/ws/blog/");
  return session.access ? `${url}?token=${encodeURIComponent(session.access)}` : url;
}

let stream = null;
let feedGeneration = 0;
let pendingFrames = null; // events that arrive while the list loads, applied after it

function setSocketState(state) {
  const label = $("socket-state");
  label.textContent = state;
  label.dataset.state = state;
  const indicator = $("connection"); // the base template's indicator, as on every page
  if (indicator) {
    indicator.textContent = state;
    indicator.className = `connection connection--${state}`;
  }
}

async function restartFeed() {
  const generation = ++feedGeneration;
  if (stream) stream.stop();
  stream = new OddsStream(blogSocketUrl());
  window.wsDemo.stream = stream;
  let everOpened = false;
  const current = () => generation === feedGeneration; // a stopped stream's late frames are ignored
  stream.addEventListener("status", async (event) => {
    if (!current()) return;
    const { status } = event.detail;
    setSocketState(status);
    log("socket", status === "open" ? "connected to /ws/blog/" : status);
    if (status === "open") {
      $("socket-error").hidden = true;
      if (everOpened) await reloadPosts("events may have been missed while disconnected");
      everOpened = true;
    }
  });
  stream.addEventListener("closed", (event) => {
    const { code, reason } = event.detail;
    if (!current()) return;
    log("socket", `closed, code ${code}${reason ? `: ${reason}` : ""}`);
    if (!everOpened) {
      // The handshake itself failed: the seed's "404 /ws/blog/" (no ASGI server, or no such route).
      // Its own box: the API's errors, shown meanwhile, must not be overwritten by each retry.
      const box = $("socket-error");
      box.textContent =
        `The live feed cannot connect to /ws/blog/ (close code ${code}): the page must be served by Daphne ` +
        "(make run), which routes /ws/blog/. Retrying with backoff.";
      box.hidden = false;
    }
  });
  stream.addEventListener("reconnecting", (event) => {
    if (!current()) return;
    log("socket", `reconnecting in ${(event.detail.delay / 1000).toFixed(1)}s (attempt ${event.detail.attempt})`);
  });
  stream.addEventListener("presence", (event) => {
    if (!current()) return;
    $("client-count").textContent = String(event.detail.count);
    log("presence", `${event.detail.count} client(s) connected`);
  });
  for (const type of ["post_created", "post_updated", "post_deleted"]) {
    stream.addEventListener(type, (event) => {
      if (!current()) return;
      const frame = event.detail;
      const why = frame.reason ? `, ${frame.reason}` : "";
      log(type, `#${frame.id} “${frame.title}” (${frame.status}${why})`, frame.ts);
      if (pendingFrames) pendingFrames.push(frame);
      else applyEvent(frame);
    });
  }
  stream.addEventListener("error", (event) => current() && log("error", `${event.detail.code}: ${event.detail.message}`));
  stream.start();
  await reloadPosts();
}

async function reloadPosts(why) {
  pendingFrames = pendingFrames || [];
  try {
    await loadPosts();
    if (why) log("info", `list reloaded: ${why}`);
  } catch (error) {
    reportFailure("Loading the posts", error);
  } finally {
    const frames = pendingFrames;
    pendingFrames = null;
    for (const frame of frames) applyEvent(frame);
  }
}

// --- Forms ---------------------------------------------------------------------------
function onSubmit(id, action, handler) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await handler(Object.fromEntries(new FormData(form)), form);
    } catch (error) {
      reportFailure(action, error);
    } finally {
      button.disabled = false;
    }
  });
}

onSubmit("signin-form", "Signing in", async ({ email, password }, form) => {
  await signIn(email, password);
  form.reset();
});

onSubmit("signup-form", "Registering", async ({ email, password }, form) => {
  await api("POST", "/api/auth/register/", { email, password }, { auth: false });
  log("auth", `account ${email} created`);
  await signIn(email, password);
  form.reset();
});

onSubmit("reset-request-form", "Asking for a password reset", async ({ email }) => {
  const reply = (await api("POST", "/api/auth/password-reset/", { email }, { auth: false })) || {};
  if (reply.uid && reply.token) {
    // DEBUG=True only: the server hands back what the e-mail would carry, to test without a mailbox.
    const confirm = $("reset-confirm-form");
    confirm.elements.uid.value = reply.uid;
    confirm.elements.token.value = reply.token;
    $("reset-debug").hidden = false;
    $("reset-debug").textContent = `DEBUG is on: uid ${reply.uid}, token ${reply.token} (filled in below).`;
    log("auth", `password reset asked for ${email}: uid ${reply.uid}, token ${reply.token}`);
  } else {
    log("auth", `password reset asked for ${email}`);
  }
  showInfo(`If ${email} has an account, a reset link is on its way.`);
});

onSubmit("reset-confirm-form", "Setting the new password", async ({ uid, token, new_password: newPassword }, form) => {
  await api("POST", "/api/auth/password-reset/confirm/", { uid, token, new_password: newPassword }, { auth: false });
  form.reset();
  $("reset-debug").hidden = true;
  log("auth", "password changed");
  showInfo("Password changed: sign in with the new one.");
});

onSubmit("post-form", "Saving the post", async ({ id, title, body, status }) => {
  if (id) {
    await api("PATCH", `/api/posts/${id}/`, { title, body, status });
    showInfo(`Post #${id} saved; every open tab shows the change.`);
  } else {
    const post = await api("POST", "/api/posts/", { title, body, status });
    showInfo(`Post #${post.id} created; every open tab shows it.`);
  }
  stopEditing();
});

$("post-cancel").addEventListener("click", stopEditing);

$("posts").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = Number(button.closest("li").dataset.postId);
  const post = posts.get(id);
  if (button.dataset.action === "edit") {
    try {
      startEditing(await api("GET", `/api/posts/${id}/`)); // the body is not in the events: fetch it fresh
    } catch (error) {
      reportFailure(`Opening post #${id}`, error);
    }
  } else if (button.dataset.action === "delete") {
    if (!window.confirm(`Delete “${post?.title ?? `post #${id}`}”? Every open tab will lose it.`)) return;
    try {
      await api("DELETE", `/api/posts/${id}/`);
      showInfo(`Post #${id} deleted.`);
      if (Number($("post-form").elements.id.value) === id) stopEditing();
    } catch (error) {
      reportFailure(`Deleting post #${id}`, error);
    }
  }
});

$("refresh-now").addEventListener("click", () => refreshTokens({ why: "on request" }));
$("signout").addEventListener("click", () => signOut().catch((error) => reportFailure("Signing out", error)));
$("clear-log").addEventListener("click", () => { $("event-log").replaceChildren(); });

// --- Start -----------------------------------------------------------------------
async function start() {
  const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
  if (saved?.access) {
    session.access = saved.access;
    session.refresh = saved.refresh;
    const claims = jwtClaims(session.access);
    // A reload after the access token expired: refresh it first (or drop the tokens if that fails).
    if (!claims?.exp || claims.exp * 1000 <= Date.now() + 5000) await refreshTokens({ quiet: true });
  }
  try {
    await loadMe(); // also picks up a visitor signed in by session
  } catch (error) {
    reportFailure("Loading who is signed in", error);
  }
  if (session.access) scheduleRefresh();
  renderSession();
  await restartFeed();
  window.wsDemo.ready = true;
}

Object.assign(window.wsDemo, { session, posts, refreshTokens, signIn, signOut });
start();
