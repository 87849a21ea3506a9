"""A bettor's own pages in a real Chromium (Debian's) against the real stack (Daphne, a Celery
worker, Redis): the wallet (a deposit, a withdrawal beyond the money available), the limits (a
decrease binds at once, an increase says when it will), the reality check (within seconds here),
an accumulator from the slip, and a cash-out from "My bets" with the wallet following.

One stack for the module, started with REALITY_CHECK_SECONDS=4 so the reminder comes within
seconds; the other tests hide it, so it never covers what they click.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.browser.test_betting_pages import card, create_match, jwt_client, new_fan, wait_js
from tests.integration.harness import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(180)]

REALITY_CHECK_SECONDS = 4
# Every page of the tests that are not about the reminder: it stays out of their way.
HIDE_REALITY_CHECK = """
document.addEventListener("DOMContentLoaded", () => {
  const style = document.createElement("style");
  style.textContent = "#reality-check { display: none !important; }";
  document.head.append(style);
});
"""


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    stack.env["REALITY_CHECK_SECONDS"] = str(REALITY_CHECK_SECONDS)
    stack.start_worker()
    _, port = stack.start_web()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def staff(base_url: str) -> httpx.Client:
    return jwt_client(base_url, "admin@oddstream.local", "admin-password")


async def fan(browser, base_url: str, path: str = "/"):
    """A new fan, signed up on the board (which is live), then on `path`."""
    context, page, errors = await new_fan(browser, base_url, init_script=HIDE_REALITY_CHECK)
    if path != "/":
        await page.goto(f"{base_url}{path}")
    return context, page, errors


async def submit_payment(page, form: str, amount: str) -> None:
    await page.fill(f"#{form}-amount", amount)
    async with page.expect_navigation():
        await page.click(f"#{form}-form button[type=submit]")


async def test_a_deposit_raises_the_balance_and_a_withdrawal_beyond_the_money_available_is_refused(
    browser, base_url
) -> None:
    context, page, errors = await fan(browser, base_url, path="/me/wallet/")
    assert await page.text_content("#balance") == "1000.00"  # the sign-up credit

    await submit_payment(page, "deposit", "50")
    assert "deposit of 50.00 is done" in await page.text_content(".notice")
    assert await page.text_content("#balance") == "1050.00"
    await wait_js(page, "document.getElementById('nav-balance').textContent === '1050.00'")
    assert await page.locator("#ledger tbody tr").first.text_content() is not None

    await submit_payment(page, "withdraw", "5000")
    refusal = await page.locator("#withdraw-form .field-error").first.text_content()
    assert refusal and "available" in refusal.lower(), refusal
    assert await page.text_content("#balance") == "1050.00"  # nothing moved
    assert errors == []
    await context.close()


async def test_a_lower_limit_binds_at_once_and_a_higher_one_says_when_it_will(browser, base_url) -> None:
    context, page, errors = await fan(browser, base_url, path="/me/safer-gambling/")
    row = '#limits tr[data-limit="deposit-day"]'

    async def set_limit(amount: str) -> None:
        await page.fill(f"{row} input[name=amount]", amount)
        async with page.expect_navigation():
            await page.click(f"{row} button[type=submit]")

    await set_limit("100")
    assert (await page.text_content(f"{row} .amount")).strip() == "100.00"
    assert (await page.text_content(f"{row} .pending")).strip() == "–"

    await set_limit("250")
    assert (await page.text_content(f"{row} .amount")).strip() == "100.00"  # the lower one binds meanwhile
    pending = await page.text_content(f"{row} .pending")
    assert "250.00, binds from" in pending, pending
    binds_from = await page.get_attribute(f"{row} .pending time", "datetime")
    changed_at = await page.evaluate("Date.now()")
    hours = (await page.evaluate(f"Date.parse('{binds_from}')") - changed_at) / 3_600_000
    assert 23.9 < hours <= 24.0, hours
    audit = await page.text_content("#audit")
    assert "Limit set or lowered" in audit and "Limit increase asked for" in audit, audit
    assert errors == []
    await context.close()


async def test_the_reality_check_shows_the_time_and_the_net_result_with_a_link_to_the_limits(browser, base_url) -> None:
    context, page, errors = await new_fan(browser, base_url, path="/")
    dialog = page.locator("#reality-check")
    await dialog.wait_for(state="visible", timeout=(REALITY_CHECK_SECONDS + 10) * 1000)
    assert (await dialog.locator('[data-field="elapsed"]').text_content()).endswith("min")
    assert await dialog.locator('[data-field="net"]').text_content() == "0.00"
    assert await dialog.get_by_role("link", name="Review my limits").get_attribute("href") == "/me/safer-gambling/"
    await dialog.get_by_role("button", name="Carry on").click()
    await dialog.wait_for(state="hidden")
    await dialog.wait_for(state="visible", timeout=(REALITY_CHECK_SECONDS + 10) * 1000)  # and again, next interval
    assert errors == []
    await context.close()


async def test_two_picks_from_two_matches_make_one_accumulator(browser, base_url, staff) -> None:
    first = create_match(staff, home="Brest", away="Lens")
    second = create_match(staff, home="Nice", away="Reims")
    context, page, errors = await fan(browser, base_url, path="/")
    for match_id, selection in ((first, "home"), (second, "away")):
        await page.click(f'{card(match_id)} .price-button[data-selection="{selection}"]')
        await wait_js(page, "!document.getElementById('acca-add').disabled")
        await page.click("#acca-add")
    assert await page.text_content("#acca-count") == "(2)"
    assert await page.text_content("#acca-odds") == "7.35"  # 2.10 x 3.50
    await page.fill("#acca-stake", "5")
    assert await page.text_content("#acca-return") == "36.75"
    await page.click("#acca-submit")
    await wait_js(page, "document.getElementById('acca-result').textContent.includes('placed')")
    bets = await page.evaluate("fetch('/api/bets/').then((r) => r.json()).then((body) => body.results)")
    assert [(bet["kind"], len(bet["legs"]), bet["stake"]) for bet in bets] == [("accumulator", 2, "5.00")]
    assert {leg["match"] for leg in bets[0]["legs"]} == {first, second}
    await wait_js(page, "document.getElementById('nav-balance').textContent === '995.00'")
    assert errors == []
    await context.close()


async def test_a_pre_match_bet_is_cashed_out_from_my_bets_and_the_wallet_follows(browser, base_url, staff) -> None:
    match_id = create_match(staff, home="Nantes", away="Lyon")
    context, page, errors = await fan(browser, base_url, path=f"/matches/{match_id}/")
    await page.click('#match .price-button[data-selection="home"]')
    await page.fill("#slip-stake", "10")
    await page.click("#slip-submit")
    await wait_js(page, "document.getElementById('slip-result').textContent.includes('placed')")
    await wait_js(page, "document.getElementById('nav-balance').textContent === '990.00'")

    await page.goto(f"{base_url}/me/bets/")
    button = page.locator(".cashout-button").first
    await wait_js(page, "!document.querySelector('.cashout-button').disabled")
    assert (await button.text_content()).startswith("Cash out ")
    await button.click()
    await wait_js(page, "document.querySelector('.cashout-button').textContent.startsWith('Confirm ')")
    amount = Decimal((await button.text_content()).removeprefix("Confirm "))
    assert Decimal("5") < amount < Decimal("10")  # a home win at ~45%, less the margin
    await button.click()
    note = page.locator(".cashout-note").first
    await wait_js(page, "document.querySelector('.cashout-note').textContent.startsWith('Cashed out for')")
    assert await note.text_content() == f"Cashed out for {amount}."
    await wait_js(page, f"document.getElementById('nav-balance').textContent === '{Decimal('990.00') + amount}'")
    bets = await page.evaluate("fetch('/api/bets/').then((r) => r.json()).then((body) => body.results)")
    assert [(bet["status"], bet["payout"]) for bet in bets] == [("cashed_out", f"{amount}")]
    assert errors == []
    await context.close()
