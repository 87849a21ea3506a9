// The board's cards of matches created after the page loaded (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { cardMaker } from "../static/frontend/js/lib/board.js";

function board() {
  const made = [];
  const resynced = [];
  let answer;
  const fetched = [];
  const ensureCard = cardMaker({
    cards: new Map(),
    fetchInfo: (id) => {
      fetched.push(id);
      return new Promise((resolve) => { answer = resolve; });
    },
    makeCard: (info) => {
      made.push(info.id);
      return { id: info.id };
    },
    resync: (id) => resynced.push(id),
  });
  return { ensureCard, made, resynced, fetched, reply: (info) => answer(info) };
}

test("a new match's card is fetched once, and a frame that came during the fetch asks for a resync", async () => {
  const page = board();
  const first = page.ensureCard(7); // the `match` frame announcing the match
  const kickOff = page.ensureCard(7); // its kick-off, published after the server read the reply
  await Promise.resolve();
  page.reply({ id: 7, version: 1, live: null });
  const [card, same] = await Promise.all([first, kickOff]);
  assert.equal(card, same);
  assert.deepEqual(page.fetched, [7]);
  assert.deepEqual(page.made, [7]);
  assert.deepEqual(page.resynced, [7]); // else the card would stay before kick-off
  assert.equal(await page.ensureCard(7), card);
  assert.deepEqual(page.resynced, [7]);
});

test("a new match with no frame during its fetch needs no resync; a failed fetch is tried again", async () => {
  const page = board();
  const first = page.ensureCard(8);
  await Promise.resolve();
  page.reply(null); // 404 or offline
  assert.equal(await first, null);
  const again = page.ensureCard(8);
  await Promise.resolve();
  page.reply({ id: 8, version: 3 });
  assert.deepEqual(await again, { id: 8 });
  assert.deepEqual(page.fetched, [8, 8]);
  assert.deepEqual(page.resynced, []);
});
