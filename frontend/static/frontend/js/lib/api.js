// The one way the pages talk to the project's API: JSON in and out, the CSRF header on every
// write, any extra headers the caller needs (Authorization, Idempotency-Key), and the API's
// errors (`{code, detail, errors?}`, config/exceptions.py) in words. No DOM: tested under Node.

export class ApiError extends Error {
  constructor(status, body, request) {
    super(`${request} answered ${status}`);
    this.status = status;
    this.body = body || {};
    this.request = request;
  }
}

// Django's CSRF cookie, for the X-CSRFToken header of a page signed in by its session cookie
// (a request with a bearer token does not need it, and it does no harm there).
export function csrfToken(cookie = globalThis.document?.cookie ?? "") {
  const match = cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// One request. Never throws: `status` is 0 when no answer came (the server is down, or the page
// was opened from disk), and `body` is the parsed JSON (or `{detail}` with the start of a reply
// that is not JSON, or null when empty).
export async function apiFetch(method, path, { body, headers = {}, fetchImpl = globalThis.fetch, cookie } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) sent["X-CSRFToken"] = csrfToken(cookie);
  let reply;
  try {
    reply = await fetchImpl(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { status: 0, ok: false, body: null, headers: null };
  }
  let text = "";
  try {
    text = await reply.text();
  } catch {
    // the connection dropped while the body came in: the status is all there is
  }
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  return { status: reply.status, ok: reply.ok, body: parsed, headers: reply.headers };
}

// The same, for callers that want the body of a 2xx or an ApiError.
export async function apiRequest(method, path, options = {}) {
  const reply = await apiFetch(method, path, options);
  if (!reply.ok) throw new ApiError(reply.status, reply.body, `${method} ${path}`);
  return reply.body;
}

function fieldErrors(errors) {
  return Object.entries(errors || {})
    .map(([field, messages]) => {
      const text = Array.isArray(messages) ? messages.join(" ") : typeof messages === "string" ? messages : JSON.stringify(messages);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    })
    .join("; ");
}

// The API's error, in words a person can act on.
export function describeApiError(error) {
  if (!(error instanceof ApiError)) return `${error?.message || error}`;
  const { status, body } = error;
  const detail = body?.detail ? ` The server says: “${body.detail}”` : "";
  switch (true) {
    case status === 0:
      return "The server could not be reached: is it running? (Opened as file://, the browser blocks every request.)";
    case status === 400: {
      const fields = fieldErrors(body?.errors);
      return fields ? `Please correct: ${fields}.` : `The request was refused as invalid (400).${detail}`;
    }
    case status === 401 && error.request?.includes("/api/auth/token/") && !error.request.includes("refresh"):
      return `The e-mail or the password is wrong (401).${detail}`;
    case status === 401:
      return `You are not signed in, or your token has expired or is invalid (401): sign in again.${detail}`;
    case status === 403:
      return `You are not allowed to do this (403).${detail}`;
    case status === 404:
      return `Not found (404): it was deleted, it is someone else's draft, or this server has no such endpoint.${detail}`;
    case status === 405:
      return `This endpoint does not accept that method (405).${detail}`;
    case status === 429:
      return `Too many attempts (429): wait a moment and try again.${detail}`;
    case status === 503:
      return `The service is briefly unavailable (503): try again in a moment.${detail}`;
    case status >= 500:
      return `The server failed (${status}): try again in a moment.`;
    default:
      return `The request failed (${status}).${detail}`;
  }
}
