// Unit tests of the live blog demo's pure helpers (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, describeApiError, jwtClaims, refreshDelayMs } from "../static/frontend/js/pages/ws-demo-lib.js";

function token(claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

test("jwtClaims reads exp and user_id from a base64url payload", () => {
  assert.deepEqual(jwtClaims(token({ exp: 1795292462, user_id: 7, name: "é?>" })), { exp: 1795292462, user_id: 7, name: "é?>" });
  assert.equal(jwtClaims("not-a-jwt"), null);
  assert.equal(jwtClaims(""), null);
});

test("an access token is refreshed shortly before it expires, never in under a second", () => {
  const now = 1_000_000_000;
  assert.equal(refreshDelayMs(now / 1000 + 300, now), 270_000); // 5-minute token: 30 s early
  assert.equal(refreshDelayMs(now / 1000 + 10, now), 8_000); // short-lived: a fifth early
  assert.equal(refreshDelayMs(now / 1000 - 60, now), 1_000); // already expired: at once
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
  assert.match(words(502, null), /server failed \(502\)/);
});
