// The live blog demo's list logic (node --test): events, reloads that overlap, drafts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PostList, canChange, describePostEvent } from "../static/frontend/js/lib/blog-posts.js";
import { clockTime } from "../static/frontend/js/lib/format.js";

const page = (...posts) => ({ count: posts.length, results: posts });
const post = (id, extra = {}) => ({ id, title: `Post ${id}`, status: "published", author: 1, ...extra });
const event = (type, id, extra = {}) => ({ type, id, title: `Post ${id}`, status: "published", author: 1, ...extra });

test("events create, change and delete posts; the list is newest first", () => {
  const list = new PostList();
  list.finishReload(list.beginReload(), page(post(1), post(3)), null);
  assert.deepEqual(list.receive(event("post_created", 4), null), { id: 4, change: "changed" });
  assert.deepEqual(list.receive(event("post_updated", 1, { title: "Renamed" }), null), { id: 1, change: "changed" });
  assert.deepEqual(list.receive(event("post_deleted", 3), null), { id: 3, change: "removed" });
  assert.equal(list.receive(event("post_deleted", 3), null), null); // already gone
  assert.deepEqual(list.ordered().map((p) => [p.id, p.title]), [[4, "Post 4"], [1, "Renamed"]]);
});

test("events that arrive during a reload are applied after its answer, in order", () => {
  const list = new PostList();
  const ticket = list.beginReload();
  assert.equal(list.receive(event("post_created", 5), null), null);
  assert.equal(list.receive(event("post_updated", 5, { title: "Fixed typo" }), null), null);
  assert.equal(list.receive(event("post_deleted", 2), null), null);
  // The answer was read before those events: it has post 2, not post 5.
  const effects = list.finishReload(ticket, page(post(2)), null);
  assert.deepEqual(effects, [{ id: 5, change: "changed" }, { id: 5, change: "changed" }, { id: 2, change: "removed" }]);
  assert.deepEqual(list.ordered().map((p) => p.title), ["Fixed typo"]);
  assert.deepEqual(list.receive(event("post_created", 6), null), { id: 6, change: "changed" }); // not held any more
});

test("of two overlapping reloads only the latest answer counts; a failed reload keeps the list", () => {
  const list = new PostList();
  list.finishReload(list.beginReload(), page(post(1)), null);
  const first = list.beginReload();
  const second = list.beginReload();
  list.receive(event("post_created", 7), null);
  assert.deepEqual(list.finishReload(second, page(post(1), post(2)), null), [{ id: 7, change: "changed" }]);
  assert.deepEqual(list.finishReload(first, page(), null), []); // older, late: ignored
  assert.deepEqual(list.ordered().map((p) => p.id), [7, 2, 1]);
  list.finishReload(list.beginReload(), null, null);
  assert.equal(list.size, 3);
});

test("an author's unpublished post stays in their list (the draft's update follows); readers lose it", () => {
  const author = { id: 1 };
  const mine = new PostList();
  const theirs = new PostList();
  for (const list of [mine, theirs]) list.finishReload(list.beginReload(), page(post(9)), null);
  const unpublished = event("post_deleted", 9, { reason: "unpublished" });
  assert.equal(mine.receive(unpublished, author), null);
  assert.equal(mine.size, 1);
  assert.deepEqual(theirs.receive(unpublished, { id: 2 }), { id: 9, change: "removed" });
  assert.equal(theirs.size, 0);
});

test("who may change a post, and an event in words", () => {
  assert.equal(canChange(post(1, { author: 4 }), { id: 4 }), true);
  assert.equal(canChange(post(1, { author: 4 }), { id: 5 }), false);
  assert.equal(canChange(post(1, { author: 4 }), { id: 5, is_staff: true }), true);
  assert.equal(canChange(post(1), null), false);
  assert.equal(describePostEvent(event("post_deleted", 3, { reason: "unpublished" })), "#3 “Post 3” (published, unpublished)");
});

test("log times are to the millisecond", () => {
  assert.equal(clockTime(new Date(2031, 0, 2, 3, 4, 5, 67)), "03:04:05.067");
});
