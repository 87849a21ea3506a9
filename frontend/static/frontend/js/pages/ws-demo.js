// The live blog demo: JWT sign-in, posts through the API, and their live feed from /ws/blog/.
//
// The list is the API's answer at load time, then kept current by the socket's events only:
// a write made in this tab is shown when its event comes back, exactly as in every other tab.
// The socket carries the access token (a signed-in socket also gets the events of the user's
// drafts); whenever the token changes, it reconnects with the new one at once, before the server
// closes it for the old one (4401 at its expiry). The logic is in ../lib (tested under Node),
// the drawing in ../components; this file wires them to the page.
import { OddsStream, wsUrl } from "../oddstream-client.js";
import { showConnection } from "../components/connection-indicator.js";
import { EventLog } from "../components/event-log.js";
import { PostEditor } from "../components/post-editor.js";
import { PostsView } from "../components/posts-view.js";
import { TokenPanel } from "../components/token-panel.js";
import { ApiError, apiRequest, describeApiError } from "../lib/api.js";
import { PostList, describePostEvent } from "../lib/blog-posts.js";
import { TokenSession } from "../lib/tokens.js";

const $ = (id) => document.getElementById(id);
$("served-notice").hidden = true; // the script runs (ws_demo.html shows the notice when it does not)
window.wsDemo = { ready: false };

const log = new EventLog($("event-log"));
const session = new TokenSession();
const tokenPanel = new TokenPanel(session);
const posts = new PostList();
const editor = new PostEditor({ form: $("post-form"), title: $("editor-title"), submit: $("post-submit"), cancel: $("post-cancel") });
const postsView = new PostsView({
  list: $("posts"),
  empty: $("posts-empty"),
  count: $("posts-count"),
  template: $("post-template"),
  onEdit: editPost,
  onDelete: deletePost,
});
let user = null; // who is signed in, by token or by the session cookie (GET /api/me/)

const stream = new OddsStream(wsUrl("/ws/blog/"), {
  token: () => session.access,
  refreshToken: (used) => session.accessAfter(used), // a 4401 the renewal did not prevent (a sleeping laptop)
});
showConnection(stream); // the top bar's indicator, as on every page

// --- Messages ------------------------------------------------------------------------------
function showError(message) {
  $("page-error").textContent = message;
  $("page-error").hidden = false;
}

function showInfo(message) {
  $("page-error").hidden = true;
  $("page-info").textContent = message;
  $("page-info").hidden = false;
}

function reportFailure(action, error) {
  const words = describeApiError(error);
  showError(`${action} failed. ${words}`);
  log.add("error", `${action} failed: ${words}`);
}

// --- Who is signed in ------------------------------------------------------------------------
async function loadMe() {
  try {
    user = await session.request("GET", "/api/me/"); // also a visitor signed in by the session cookie
  } catch (error) {
    if (!(error instanceof ApiError) || ![401, 403].includes(error.status)) throw error;
    user = null;
  }
}

function render() {
  tokenPanel.render(user);
  postsView.render(posts.ordered(), user);
}

session.addEventListener("change", async (event) => {
  const { reason, why } = event.detail;
  stream.renew(); // the socket takes the new credential now: the old one's expiry cannot close it
  if (reason === "rotated") log.add("auth", `access token refreshed ${why}`);
  render();
  if (reason === "rotated") return;
  try {
    await loadMe();
  } catch (error) {
    reportFailure("Loading who is signed in", error);
  }
  render();
});

session.addEventListener("refresh-failed", (event) => {
  const { error, signedOut } = event.detail;
  reportFailure("Refreshing the access token", error);
  if (signedOut) showError("Your sign-in expired: sign in again.");
  else log.add("info", "the tokens are kept; the refresh is tried again shortly");
});

async function signIn(email, password) {
  await session.signIn(email, password);
  log.add("auth", `signed in as ${email}: access and refresh tokens held`);
  showInfo(`Signed in as ${email}.`);
}

async function signOut() {
  const error = await session.signOut();
  // The tokens are dropped whatever the server said; it only could not revoke the refresh token.
  if (error) log.add("error", `logout: ${describeApiError(error)}`);
  log.add("auth", "signed out: tokens dropped");
  showInfo("Signed out.");
}

// --- Posts -------------------------------------------------------------------------------------
function applyEffect({ id, change }) {
  if (change === "changed") {
    postsView.flash(id);
  } else if (editor.editing === id) {
    editor.stop();
    showError(`Post #${id} was deleted (or unpublished) while you were editing it.`);
  }
}

async function reloadPosts(why) {
  const ticket = posts.beginReload(); // events that arrive meanwhile are applied after the answer
  let page = null;
  try {
    page = await session.request("GET", "/api/posts/?page_size=100");
    if (why) log.add("info", `list reloaded: ${why}`);
    if (page.count > page.results.length) log.add("info", `showing the newest ${page.results.length} of ${page.count} posts`);
  } catch (error) {
    reportFailure("Loading the posts", error);
  }
  const effects = posts.finishReload(ticket, page, user);
  postsView.render(posts.ordered(), user);
  effects.forEach(applyEffect);
}

async function editPost(id) {
  try {
    editor.start(await session.request("GET", `/api/posts/${id}/`)); // the body is not in the events: fetch it fresh
  } catch (error) {
    reportFailure(`Opening post #${id}`, error);
  }
}

async function deletePost(id) {
  const post = posts.get(id);
  if (!window.confirm(`Delete “${post?.title ?? `post #${id}`}”? Every open tab will lose it.`)) return;
  try {
    await session.request("DELETE", `/api/posts/${id}/`);
    showInfo(`Post #${id} deleted.`);
    if (editor.editing === id) editor.stop();
  } catch (error) {
    reportFailure(`Deleting post #${id}`, error);
  }
}

// --- The live feed ---------------------------------------------------------------------------
let everOpened = false;
stream.addEventListener("status", async (event) => {
  const { status } = event.detail;
  $("socket-state").textContent = status;
  $("socket-state").dataset.state = status;
  log.add("socket", status === "open" ? "connected to /ws/blog/" : status);
  if (status !== "open") return;
  $("socket-error").hidden = true;
  // A reconnect (a dropped socket, or a new token): events may have been missed meanwhile.
  if (everOpened) await reloadPosts("the socket reconnected, and events may have been missed meanwhile");
  everOpened = true;
});
stream.addEventListener("closed", (event) => {
  const { code, reason } = event.detail;
  log.add("socket", `closed, code ${code}${reason ? `: ${reason}` : ""}`);
  if (!everOpened) {
    // The handshake itself failed: the seed's "404 /ws/blog/" (no ASGI server, or no such route).
    // Its own box: the API's errors, shown meanwhile, must not be overwritten by each retry.
    $("socket-error").textContent =
      `The live feed cannot connect to /ws/blog/ (close code ${code}): the page must be served by Daphne ` +
      "(make run), which routes /ws/blog/. Retrying with backoff.";
    $("socket-error").hidden = false;
  }
});
stream.addEventListener("reconnecting", (event) => {
  log.add("socket", `reconnecting in ${(event.detail.delay / 1000).toFixed(1)}s (attempt ${event.detail.attempt})`);
});
stream.addEventListener("presence", (event) => {
  $("client-count").textContent = String(event.detail.count);
  log.add("presence", `${event.detail.count} client(s) connected`);
});
for (const type of ["post_created", "post_updated", "post_deleted"]) {
  stream.addEventListener(type, (event) => {
    const frame = event.detail;
    log.add(type, describePostEvent(frame), frame.ts);
    const effect = posts.receive(frame, user);
    if (!effect) return;
    postsView.render(posts.ordered(), user);
    applyEffect(effect);
  });
}
stream.addEventListener("error", (event) => log.add("error", `${event.detail.code}: ${event.detail.message}`));

// --- Forms -----------------------------------------------------------------------------------
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
  await apiRequest("POST", "/api/auth/register/", { body: { email, password } });
  log.add("auth", `account ${email} created`);
  await signIn(email, password);
  form.reset();
});

onSubmit("reset-request-form", "Asking for a password reset", async ({ email }) => {
  const reply = (await apiRequest("POST", "/api/auth/password-reset/", { body: { email } })) || {};
  if (reply.uid && reply.token) {
    // DEBUG=True only: the server hands back what the e-mail would carry, to test without a mailbox.
    const confirm = $("reset-confirm-form");
    confirm.elements.uid.value = reply.uid;
    confirm.elements.token.value = reply.token;
    $("reset-debug").hidden = false;
    $("reset-debug").textContent = `DEBUG is on: uid ${reply.uid}, token ${reply.token} (filled in below).`;
    log.add("auth", `password reset asked for ${email}: uid ${reply.uid}, token ${reply.token}`);
  } else {
    log.add("auth", `password reset asked for ${email}`);
  }
  showInfo(`If ${email} has an account, a reset link is on its way.`);
});

onSubmit("reset-confirm-form", "Setting the new password", async ({ uid, token, new_password: newPassword }, form) => {
  await apiRequest("POST", "/api/auth/password-reset/confirm/", { body: { uid, token, new_password: newPassword } });
  form.reset();
  $("reset-debug").hidden = true;
  log.add("auth", "password changed");
  showInfo("Password changed: sign in with the new one.");
});

onSubmit("post-form", "Saving the post", async ({ id, title, body, status }) => {
  if (id) {
    await session.request("PATCH", `/api/posts/${id}/`, { title, body, status });
    showInfo(`Post #${id} saved; every open tab shows the change.`);
  } else {
    const post = await session.request("POST", "/api/posts/", { title, body, status });
    showInfo(`Post #${post.id} created; every open tab shows it.`);
  }
  editor.stop();
});

$("refresh-now").addEventListener("click", () => session.refreshNow({ why: "on request" }));
$("signout").addEventListener("click", () => signOut().catch((error) => reportFailure("Signing out", error)));
$("clear-log").addEventListener("click", () => log.clear());

// --- Start -------------------------------------------------------------------------------------
async function start() {
  // A reload after the access token expired refreshes it first; the socket starts after, with it.
  await session.restore();
  try {
    await loadMe();
  } catch (error) {
    reportFailure("Loading who is signed in", error);
  }
  render();
  stream.start();
  await reloadPosts();
  window.wsDemo.ready = true;
}

Object.assign(window.wsDemo, { session, posts, stream, signIn, signOut });
start();
