"""A bettor signs in, bets from the match page, and another tab sees the prices move."""

import pytest

from tests.integration.harness import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    stack.start_worker()
    _, port = stack.start_web()
    return f"http://127.0.0.1:{port}"


async def sign_in_and_open(page, base_url: str, path: str) -> None:
    """Sign in as the demo bettor through the login form, land on `path`, wait for the socket."""
    await page.goto(f"{base_url}/accounts/login/?next={path}")
    await page.fill("input[name=username]", "demo@oddstream.local")
    await page.fill("input[name=password]", "demo-password")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")
    await page.wait_for_function("document.getElementById('connection').textContent === 'open'")


async def test_bet_from_match_page_moves_prices_in_other_tab(browser, base_url, artifacts) -> None:
    watcher = await browser.new_page()
    await watcher.goto(f"{base_url}/")
    await watcher.wait_for_function("document.getElementById('connection').textContent === 'open'")
    match_id = await watcher.get_attribute("tr[data-match-id]", "data-match-id")
    watched_cell = f'tr[data-match-id="{match_id}"] [data-selection="draw"]'
    before = await watcher.text_content(watched_cell)

    bettor = await browser.new_page()
    await sign_in_and_open(bettor, base_url, f"/matches/{match_id}/")

    await bettor.click('.price-button[data-selection="draw"]')
    await bettor.fill("#slip-stake", "300.00")
    await bettor.click("#bet-slip button[type=submit]")
    await bettor.wait_for_function("document.getElementById('slip-result').textContent.includes('accepted')")

    # The worker's new price reaches the other tab over its WebSocket, and flashes.
    await watcher.wait_for_function(
        f"document.querySelector('{watched_cell}').textContent !== '{before}'", timeout=10000
    )
    assert float(await watcher.text_content(watched_cell)) < float(before)
    await bettor.wait_for_function("document.querySelectorAll('#history tbody tr').length >= 2")
    await bettor.screenshot(path=str(artifacts / "match-page.png"))
    await watcher.screenshot(path=str(artifacts / "home-page.png"))


async def test_refused_bet_is_explained_in_words(browser, base_url) -> None:
    page = await browser.new_page()
    await sign_in_and_open(page, base_url, "/")
    match_id = await page.get_attribute("tr[data-match-id]", "data-match-id")
    await page.goto(f"{base_url}/matches/{match_id}/")
    await page.wait_for_function("document.getElementById('connection').textContent === 'open'")
    await page.click('.price-button[data-selection="home"]')
    await page.fill("#slip-stake", "-3")
    await page.click("#bet-slip button[type=submit]")
    await page.wait_for_function("document.getElementById('slip-result').textContent.includes('stake')")
    assert "error" in (await page.get_attribute("#slip-result", "class"))


async def test_wallet_page_follows_a_bet_placed_in_another_tab(browser, base_url, artifacts) -> None:
    context = await browser.new_context()  # one session shared by both tabs
    wallet = await context.new_page()
    await sign_in_and_open(wallet, base_url, "/me/wallet/")
    before = float(await wallet.text_content("#balance"))

    bettor = await context.new_page()
    await bettor.goto(f"{base_url}/")
    match_id = await bettor.get_attribute("tr[data-match-id]", "data-match-id")
    await bettor.goto(f"{base_url}/matches/{match_id}/")
    await bettor.wait_for_function("document.getElementById('connection').textContent === 'open'")
    await bettor.click('.price-button[data-selection="away"]')
    await bettor.fill("#slip-stake", "15.00")
    await bettor.click("#bet-slip button[type=submit]")
    await bettor.wait_for_function("document.getElementById('slip-result').textContent.includes('accepted')")

    # The private `wallet` event reaches the other tab's socket: balance and ledger update.
    await wallet.wait_for_function(f"Number(document.getElementById('balance').textContent) === {before - 15}")
    first_row = await wallet.text_content("#ledger tbody tr")
    assert "stake" in first_row and "-15.00" in first_row
    await wallet.screenshot(path=str(artifacts / "wallet-page.png"))
    await context.close()
