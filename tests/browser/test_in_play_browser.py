"""A fan bets in play in a real Chromium (Debian's) against the real stack (Daphne, a Celery
worker on the feed and bet-delay queues, Redis): the match is put in play by feed events posted
over HTTP with a feed token, as the replay posts them; a bet from the slip shows pending, then
accepted after the delay, and the balance and the list of bets follow without a reload. A goal
then suspends the page, and the selections it decided show Won and Lost. A cash-out in play from
"My bets" follows the live value, waits out the delay as pending, then shows its decision.

Short delays (settings through the stack's environment) keep it to seconds."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.browser.test_betting_pages import card, create_match, jwt_client, live, new_fan, open_anonymous, wait_js
from tests.integration.harness import Stack
from tests.integration.test_inplay import Feed

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

BET_DELAY, REOPEN = 1.5, 2.0
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def running(stack: Stack) -> tuple[str, str]:
    port, token = stack.start_in_play(provider="browser-feed", bet_delay=BET_DELAY, reopen=REOPEN)
    return f"http://127.0.0.1:{port}", token


def wait_for_period(staff: httpx.Client, match_id: int, period: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        detail = staff.get(f"/matches/{match_id}/").json()
        if (detail["live"] or {}).get("period") == period and detail["status"] == "open":
            return
        time.sleep(0.1)
    raise AssertionError(f"match {match_id} not {period} and open: {detail['status']} {detail['live']}")


async def match_in_play(base_url: str, feed_token: str, *, home: str, away: str) -> tuple[int, Feed]:
    """A new match, put in play by the feed's kick-off: (its id, its feed)."""
    staff = jwt_client(base_url, "admin@oddstream.local", "admin-password")
    kickoff = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    match_id = create_match(staff, home=home, away=away, kickoff=kickoff)
    feed = Feed(httpx.AsyncClient(base_url=base_url, timeout=10), feed_token, match_id)
    await feed.send("kick_off")
    wait_for_period(staff, match_id, "first_half")
    return match_id, feed


async def test_an_in_play_bet_shows_pending_then_accepted_and_the_balance_and_bets_follow(browser, running) -> None:
    base_url, feed_token = running
    match_id, feed = await match_in_play(base_url, feed_token, home="Brest", away="Le Havre")

    context, page, errors = await new_fan(browser, base_url, path=f"/matches/{match_id}/")
    assert await page.get_attribute("#match", "data-live") == "true"
    assert await page.text_content('#match [data-role="score-home"]') == "0"
    bets_page = await context.new_page()
    await bets_page.goto(f"{base_url}/me/bets/")
    await live(bets_page)

    await page.click('#match .price-button[data-selection="home"]')
    await page.fill("#slip-stake", "10")
    await page.click("#slip-submit")
    await wait_js(page, "document.getElementById('slip-result').dataset.phase === 'pending'", timeout=WAIT_MS)
    pending_at = time.monotonic()
    assert "pending" in await page.text_content("#slip-result")
    bet_id = int((await page.text_content("#slip-result")).split("#", 1)[1].split(" ", 1)[0])
    # Held, not debited: the balance stays until the book accepts it.
    assert await page.text_content("#nav-balance") == "1000.00"

    await wait_js(page, "document.getElementById('slip-result').dataset.phase === 'accepted'", timeout=WAIT_MS)
    decided_after = time.monotonic() - pending_at
    print(f"slip pending → accepted: {decided_after:.2f} s (delay {BET_DELAY} s)")
    assert decided_after >= BET_DELAY - 0.5  # not before the delay (the 202 came a moment before)
    assert f"Bet #{bet_id} accepted" in await page.text_content("#slip-result")
    await wait_js(page, "document.getElementById('nav-balance').textContent === '990.00'")
    row = f'tr[data-bet-id="{bet_id}"]'
    await wait_js(bets_page, f"document.querySelector('{row} .status')?.textContent === 'open'")
    await wait_js(bets_page, "document.getElementById('nav-balance').textContent === '990.00'")
    [bet] = (await page.evaluate("fetch('/api/bets/').then((r) => r.json())"))["results"]
    assert (bet["id"], bet["status"], bet["stake"]) == (bet_id, "open", "10.00")

    # A goal: the page suspends with its reason; over 0.5 is decided, shown Won and Lost.
    await feed.send("goal", team="home", minute=20)
    await wait_js(page, "document.querySelector('#match [data-role=\"score-home\"]').textContent === '1'")
    await wait_js(page, "document.querySelector('#match .price-button[data-selection=\"home\"]').disabled")
    over = '#match .price-button[data-market="over_under_0_5"][data-selection="over"]'
    await wait_js(page, f"document.querySelector('{over} .price').textContent === 'Won'")
    under = '#match .price-button[data-market="over_under_0_5"][data-selection="under"]'
    assert await page.text_content(f"{under} .price") == "Lost"
    # Reopened after INPLAY_REOPEN_SECONDS: the rest takes bets again, the decided pair does not.
    await wait_js(page, "!document.querySelector('#match .price-button[data-selection=\"home\"]').disabled")
    assert await page.is_disabled(over)
    state = '#match .market[data-market="over_under_0_5"] [data-role="market-state"]'
    assert await page.text_content(state) == "Decided"
    assert errors == []
    await feed.client.aclose()
    await context.close()


async def test_an_in_play_cash_out_from_my_bets_shows_pending_then_the_decision_and_follows_the_live_value(
    browser, running
) -> None:
    """The button's amount follows the live `cashout` value (an away goal lowers a home bet's);
    a press quotes, "Confirm" accepts: pending through the bet delay, then cashed out at the
    quoted amount, and the balance follows."""
    base_url, feed_token = running
    match_id, feed = await match_in_play(base_url, feed_token, home="Lorient", away="Metz")

    context, page, errors = await new_fan(browser, base_url, path=f"/matches/{match_id}/")
    await page.click('#match .price-button[data-selection="home"]')
    await page.fill("#slip-stake", "10")
    await page.click("#slip-submit")
    await wait_js(page, "document.getElementById('slip-result').dataset.phase === 'accepted'", timeout=WAIT_MS)
    await wait_js(page, "document.getElementById('nav-balance').textContent === '990.00'")

    await page.goto(f"{base_url}/me/bets/")
    await live(page)
    button = page.locator(".cashout-button").first
    note = page.locator(".cashout-note").first
    await wait_js(page, "document.querySelector('.cashout-button')?.disabled === false", timeout=WAIT_MS)
    before = Decimal((await button.text_content()).removeprefix("Cash out "))

    # An away goal: the reprice brings a lower value to the open page, with no reload.
    await feed.send("goal", team="away", minute=10)
    moved = f"document.querySelector('.cashout-button').textContent !== 'Cash out {before}'"
    await wait_js(page, f"!document.querySelector('.cashout-button').disabled && {moved}", timeout=WAIT_MS)
    after = Decimal((await button.text_content()).removeprefix("Cash out "))
    print(f"cash-out value {before} -> {after} after an away goal")
    assert Decimal("0") < after < before

    await button.click()
    await wait_js(page, "document.querySelector('.cashout-button').textContent.startsWith('Confirm ')")
    amount = Decimal((await button.text_content()).removeprefix("Confirm "))
    await button.click()
    await wait_js(page, "document.querySelector('.cashout-note').textContent.includes('requested')")
    assert await note.text_content() == f"Cash-out of {amount} requested: in play, it is confirmed in a few seconds."
    assert await button.is_disabled()
    pending_at = time.monotonic()
    await wait_js(page, "document.querySelector('.cashout-note').textContent.startsWith('Cashed out')", timeout=WAIT_MS)
    print(f"cash-out pending → decided: {time.monotonic() - pending_at:.2f} s (delay {BET_DELAY} s)")
    assert await note.text_content() == f"Cashed out for {amount}."
    await wait_js(page, f"document.getElementById('nav-balance').textContent === '{Decimal('990.00') + amount}'")
    bets = await page.evaluate("fetch('/api/bets/').then((r) => r.json()).then((body) => body.results)")
    assert [(bet["status"], bet["payout"]) for bet in bets] == [("cashed_out", f"{amount}")]
    assert errors == []
    await feed.client.aclose()
    await context.close()


async def test_the_replay_plays_a_real_match_over_http_onto_the_pages(browser, running, stack: Stack) -> None:
    """`feed_replay` (what `make run` runs) against the stack: the match it creates appears on an
    open board, and its page follows it live (in play, the score) to the real final score,
    settled, each of its goals in its timeline."""
    base_url, _ = running
    context, board = await open_anonymous(browser, base_url, "/")
    before = set(await board.eval_on_selector_all(".match-card", "(cards) => cards.map((c) => c.dataset.matchId)"))
    # 300 match minutes a real minute: the whole match, its break included, in about 20 s.
    replay = asyncio.create_task(
        asyncio.to_thread(
            stack.manage,
            *("feed_replay", "--url", base_url, "--speed", "300", "--matches", "1", "--seed", "4", "--lead", "3"),
        )
    )
    known = json.dumps(sorted(before))
    new_card = f"[...document.querySelectorAll('.match-card')].find((c) => !{known}.includes(c.dataset.matchId))"
    await wait_js(board, f"Boolean({new_card})", timeout=60_000)
    match_id = int(await board.evaluate(f"{new_card}.dataset.matchId"))
    page = await context.new_page()
    await page.goto(f"{base_url}/matches/{match_id}/")
    await live(page)
    await wait_js(page, "document.getElementById('match').dataset.live === 'true'", timeout=30_000)
    # The board, open since before the match existed, follows it too: in play, then settled.
    board_card = f"document.querySelector('{card(match_id)}')"
    await wait_js(board, f"{board_card}.dataset.live === 'true'", timeout=30_000)
    output = await asyncio.wait_for(replay, timeout=150)
    found = re.search(rf"Match {match_id}: .* \(\S+ \S+, (\d+)-(\d+)\)", output)
    assert found, output
    home, away = (int(group) for group in found.groups())
    await wait_js(page, "document.querySelector('#match [data-role=\"status\"]').textContent === 'Settled'")
    assert await page.text_content('#match [data-role="score-home"]') == str(home)
    assert await page.text_content('#match [data-role="score-away"]') == str(away)
    await wait_js(board, f"{board_card}.dataset.status === 'settled'")
    assert await board.text_content(f'{card(match_id)} [data-role="score-home"]') == str(home)
    assert await board.text_content(f'{card(match_id)} [data-role="score-away"]') == str(away)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        detail = (await client.get(f"/api/matches/{match_id}/")).json()
        log = (await client.get(f"/api/matches/{match_id}/events/")).json()
    assert (detail["status"], detail["live"]["period"]) == ("settled", "full_time")
    assert detail["live"]["score"] == {"home": home, "away": away}
    goals = [event for event in log["events"] if event["kind"] == "goal" and event["applied"]]
    assert len(goals) == home + away
    await context.close()
