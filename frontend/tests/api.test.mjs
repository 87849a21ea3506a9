// The pages' API module (node --test): headers, CSRF, replies that are not JSON, no answer, and
// the API's errors in words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, apiFetch, apiRequest, csrfToken, describeApiError } from "../static/frontend/js/lib/api.js";

function fakeFetch(status, text, headers = {}) {
  const calls = [];
  const impl = async (url, init) => {
    calls.push({ url, init });
    return { status, ok: status >= 200 && status < 300, text: async () => text, headers: new Headers(headers) };
  };
  return { impl, calls };
}

test("the CSRF token is read from the cookie", () => {
  assert.equal(csrfToken("a=1; csrftoken=abc%3D; b=2"), "abc=");
  assert.equal(csrfToken("csrftoken=xyz"), "xyz");
  assert.equal(csrfToken("notcsrftoken=1"), "");
});

test("a write sends JSON, the CSRF header and the caller's extra headers; a read sends no CSRF header", async () => {
  const { impl, calls } = fakeFetch(201, '{"id": 7}', { "Retry-After": "3" });
  const reply = await apiFetch("POST", "/api/bets/", {
    body: { stake: "1.00" }, headers: { "Idempotency-Key": "k-1" }, fetchImpl: impl, cookie: "csrftoken=tok",
  });
  assert.deepEqual({ status: reply.status, ok: reply.ok, body: reply.body }, { status: 201, ok: true, body: { id: 7 } });
  assert.equal(reply.headers.get("Retry-After"), "3");
  const { init } = calls[0];
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "same-origin");
  assert.equal(init.body, '{"stake":"1.00"}');
  assert.deepEqual(init.headers, {
    Accept: "application/json", "Idempotency-Key": "k-1", "Content-Type": "application/json", "X-CSRFToken": "tok",
  });
  await apiFetch("GET", "/api/me/", { fetchImpl: impl, cookie: "csrftoken=tok" });
  assert.deepEqual(calls[1].init.headers, { Accept: "application/json" });
  assert.equal(calls[1].init.body, undefined);
});

test("no answer is status 0; a reply that is not JSON keeps its start as the detail", async () => {
  const down = await apiFetch("GET", "/api/me/", { fetchImpl: async () => { throw new TypeError("Failed to fetch"); } });
  assert.deepEqual(down, { status: 0, ok: false, body: null, headers: null });
  const proxy = await apiFetch("GET", "/api/me/", { fetchImpl: fakeFetch(502, "<html>Bad gateway</html>").impl });
  assert.deepEqual(proxy.body, { detail: "<html>Bad gateway</html>" });
  const empty = await apiFetch("DELETE", "/api/posts/1/", { fetchImpl: fakeFetch(204, "").impl, cookie: "" });
  assert.equal(empty.body, null);
});

test("apiRequest gives the body of a 2xx, an ApiError otherwise", async () => {
  assert.deepEqual(await apiRequest("GET", "/api/me/", { fetchImpl: fakeFetch(200, '{"id": 1}').impl }), { id: 1 });
  await assert.rejects(
    apiRequest("POST", "/api/posts/", { body: {}, fetchImpl: fakeFetch(400, '{"code": "invalid", "errors": {"title": ["Required."]}}').impl }),
    (error) => error instanceof ApiError && error.status === 400 && error.request === "POST /api/posts/" && error.body.errors.title[0] === "Required.",
  );
});

test("API errors are described in words", () => {
  const words = (status, body) => describeApiError(new ApiError(status, body, "DELETE /api/posts/1/"));
  assert.match(words(401, { code: "not_authenticated", detail: "Authentication credentials were not provided." }), /not signed in.*\(401\).*credentials were not provided/);
  assert.match(words(403, { detail: "Only the post's author (or staff) can change or delete it." }), /not allowed.*\(403\).*author/);
  assert.equal(
    words(400, { code: "invalid", errors: { title: ["This field may not be blank."], non_field_errors: ["Bad."] } }),
    "Please correct: title: This field may not be blank.; Bad..",
  );
  assert.match(words(400, { code: "malformed", detail: "JSON parse error" }), /invalid \(400\).*JSON parse error/);
  assert.match(words(404, { detail: "Not found." }), /Not found \(404\)/);
  const signIn = describeApiError(new ApiError(401, { detail: "No active account found with the given credentials" }, "POST /api/auth/token/"));
  assert.match(signIn, /e-mail or the password is wrong \(401\)/);
  assert.match(words(0, null), /could not be reached.*file:\/\//);
  assert.match(words(503, { detail: "The database is unavailable." }), /briefly unavailable \(503\).*database/);
  assert.match(words(502, null), /server failed \(502\)/);
  assert.equal(describeApiError(new Error("boom")), "boom");
});
