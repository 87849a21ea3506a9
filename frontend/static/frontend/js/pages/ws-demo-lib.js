// Pure helpers of the live blog demo (no DOM), so Node can test them.

export class ApiError extends Error {
  constructor(status, body, request) {
    super(`${request} answered ${status}`);
    this.status = status;
    this.body = body || {};
    this.request = request;
  }
}

function fieldErrors(errors) {
  return Object.entries(errors || {})
    .map(([field, messages]) => {
      const text = Array.isArray(messages) ? messages.join(" ") : typeof messages === "string" ? messages : JSON.stringify(messages);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    })
    .join("; ");
}

// The API's error, in words a person can act on. Bodies are `{code, detail, errors?}` (see config/exceptions.py).
export function describeApiError(error) {
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
    case status >= 500:
      return `The server failed (${status}): try again in a moment.`;
    default:
      return `The request failed (${status}).${detail}`;
  }
}

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
