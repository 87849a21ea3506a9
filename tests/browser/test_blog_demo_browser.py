"""The live blog demo in a real Chromium, against the real stack (Daphne, Celery worker, Redis).

Two browser contexts are two people: one signs up, writes, edits and deletes a post; the
other, signed out, watches each event arrive in its log and its list. Access tokens live
ACCESS_TOKEN_SECONDS, so the pages rotate them every few seconds: one test keeps a signed-in
page open for at least three lifetimes, checking after each expiry that a post published then
arrives, and reloads it after its token expired. Screenshots are saved under test-artifacts/.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SKIP_REASON
from tests.integration.harness import ROOT, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.timeout(240)]

TEMPLATE = ROOT / "frontend" / "templates" / "frontend" / "ws_demo.html"
WAIT_MS = 15_000
# Short-lived access tokens, so that every test here lives through several rotations: the page
# refreshes a fifth of the lifetime early, after about 3 s.
ACCESS_TOKEN_SECONDS = 4

if not CHROMIUM.exists():
    pytestmark.append(pytest.mark.skip(reason=SKIP_REASON))

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    # DEBUG on, as under `make run`: the password-reset endpoint then returns uid and token.
    stack.env["DEBUG"] = "True"
    stack.env["JWT_ACCESS_SECONDS"] = str(ACCESS_TOKEN_SECONDS)
    # Every test here signs in from 127.0.0.1; the per-IP sign-in throttle is not under test.
    stack.env["THROTTLE_AUTH"] = "1000/minute"
    stack.start_worker()
    _, port = stack.start_web()
    return f"http://127.0.0.1:{port}"


def open_demo(browser, base_url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/ws-demo/")
    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("() => window.wsDemo && window.wsDemo.ready", timeout=WAIT_MS)
    return context, page, errors


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def log_entries(page, kind: str):
    return page.locator(f'#event-log li[data-kind="{kind}"]')


def test_opened_from_disk_the_page_says_it_must_be_served(browser) -> None:
    page = browser.new_page()
    try:
        page.goto(TEMPLATE.as_uri())
        notice = page.locator("#served-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("must be served")
        expect(notice).to_contain_text("http://127.0.0.1:8000/ws-demo/")
    finally:
        page.close()


def test_served_page_loads_and_reports_api_errors_in_words(browser, base_url: str) -> None:
    context, page, errors = open_demo(browser, base_url)
    try:
        expect(page.locator("#served-notice")).to_be_hidden()
        expect(page.locator("#access-token")).to_have_attribute("data-held", "false")
        # Writing while signed out: the API's 401, in words.
        page.fill("#post-form [name=title]", "Anonymous scoop")
        page.click("#post-submit")
        expect(page.locator("#page-error")).to_contain_text("not signed in")
        expect(page.locator("#page-error")).to_contain_text("401")
        expect(page.locator("#socket-state")).to_have_text("open", timeout=WAIT_MS)
        expect(page.locator("#socket-error")).to_be_hidden()
        screenshot(page, "ws-demo-signed-out.png")
        assert errors == [], errors
    finally:
        context.close()


def test_two_tabs_follow_create_update_delete_live(browser, base_url: str) -> None:
    writer_context, writer, writer_errors = open_demo(browser, base_url)
    reader_context, reader, reader_errors = open_demo(browser, base_url)
    try:
        for page in (writer, reader):
            expect(page.locator("#socket-state")).to_have_text("open", timeout=WAIT_MS)

        # Sign-up signs in: both tokens held, the socket reconnects as this user.
        email = f"writer-{uuid.uuid4().hex[:8]}@example.com"
        writer.fill("#signup-form [name=email]", email)
        writer.fill("#signup-form [name=password]", "a-long-enough-password")
        writer.click("#signup-form button[type=submit]")
        expect(writer.locator("#access-token")).to_have_attribute("data-held", "true", timeout=WAIT_MS)
        expect(writer.locator("#refresh-token")).to_have_attribute("data-held", "true")
        expect(writer.locator("#signed-in-as")).to_contain_text(email)
        expect(writer.locator("#socket-state")).to_have_text("open", timeout=WAIT_MS)

        # A refresh on request replaces the access token (the refresh token rotates with it).
        before = writer.locator("#access-token").inner_text()
        writer.click("#refresh-now")
        expect(log_entries(writer, "auth").filter(has_text="refreshed on request")).to_have_count(1, timeout=WAIT_MS)
        assert writer.locator("#access-token").inner_text() != before

        # A draft reaches its author's tab only.
        writer.fill("#post-form [name=title]", "Secret line-up")
        writer.select_option("#post-form [name=status]", "draft")
        writer.click("#post-submit")
        expect(writer.locator("#posts li", has_text="Secret line-up")).to_be_visible(timeout=WAIT_MS)

        # Create.
        writer.fill("#post-form [name=title]", "Derby day")
        writer.fill("#post-form [name=body]", "Kick-off at eight.")
        writer.select_option("#post-form [name=status]", "published")
        writer.click("#post-submit")
        reader_item = reader.locator("#posts li", has_text="Derby day")
        expect(reader_item).to_be_visible(timeout=WAIT_MS)
        expect(log_entries(reader, "post_created").filter(has_text="Derby day")).to_have_count(1)
        post_id = reader_item.get_attribute("data-post-id")
        expect(reader.locator("#posts li", has_text="Secret line-up")).to_have_count(0)
        expect(log_entries(reader, "post_created").filter(has_text="Secret line-up")).to_have_count(0)

        # Update: the same list item changes in place.
        writer.locator(f'#posts li[data-post-id="{post_id}"] button[data-action="edit"]').click()
        expect(writer.locator("#post-form [name=body]")).to_have_value("Kick-off at eight.")
        writer.fill("#post-form [name=title]", "Derby day: team news")
        writer.click("#post-submit")
        same_item = reader.locator(f'#posts li[data-post-id="{post_id}"]')
        expect(same_item.locator(".post__title")).to_have_text("Derby day: team news", timeout=WAIT_MS)
        expect(log_entries(reader, "post_updated").filter(has_text="team news")).to_have_count(1)

        screenshot(writer, "ws-demo-writer.png")
        screenshot(reader, "ws-demo-reader.png")

        # Delete (the confirmation is accepted): gone from both lists.
        writer.locator(f'#posts li[data-post-id="{post_id}"] button[data-action="delete"]').click()
        expect(same_item).to_have_count(0, timeout=WAIT_MS)
        expect(writer.locator(f'#posts li[data-post-id="{post_id}"]')).to_have_count(0, timeout=WAIT_MS)
        expect(log_entries(reader, "post_deleted").filter(has_text="team news")).to_have_count(1)

        # The access token was refreshed before it expired, without the user doing anything.
        scheduled = log_entries(writer, "auth").filter(has_text="refreshed before it expired")
        expect(scheduled.first).to_be_visible(timeout=(ACCESS_TOKEN_SECONDS + 5) * 1000)
        expect(log_entries(writer, "error")).to_have_count(0)

        # Every log line carries a time; both pages count the two connected clients.
        deleted_at = log_entries(reader, "post_deleted").first.locator("time").inner_text()
        assert re.match(r"\d\d:\d\d:\d\d\.\d{3}", deleted_at)
        for page in (writer, reader):
            expect(page.locator("#client-count")).to_have_text("2", timeout=WAIT_MS)
        screenshot(reader, "ws-demo.png")
        assert writer_errors == [] and reader_errors == [], writer_errors + reader_errors
    finally:
        writer_context.close()
        reader_context.close()


def test_password_reset_shows_uid_and_token_with_debug_on(browser, base_url: str) -> None:
    context, page, errors = open_demo(browser, base_url)
    try:
        email = f"forgetful-{uuid.uuid4().hex[:8]}@example.com"
        signup = {"email": email, "password": "first-password-1"}
        assert httpx.post(f"{base_url}/api/auth/register/", json=signup).is_success
        page.fill("#reset-request-form [name=email]", email)
        page.click("#reset-request-form button[type=submit]")
        expect(page.locator("#reset-debug")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#reset-debug")).to_contain_text("DEBUG is on: uid ")
        expect(page.locator("#reset-confirm-form [name=uid]")).not_to_have_value("")
        expect(page.locator("#reset-confirm-form [name=token]")).not_to_have_value("")
        page.fill("#reset-confirm-form [name=new_password]", "second-password-2")
        page.click("#reset-confirm-form button[type=submit]")
        expect(page.locator("#page-info")).to_contain_text("Password changed", timeout=WAIT_MS)

        # The old password no longer works, and the page says so in words.
        page.fill("#signin-form [name=email]", email)
        page.fill("#signin-form [name=password]", "first-password-1")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#page-error")).to_contain_text("e-mail or the password is wrong", timeout=WAIT_MS)

        page.fill("#signin-form [name=email]", email)
        page.fill("#signin-form [name=password]", "second-password-2")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#access-token")).to_have_attribute("data-held", "true", timeout=WAIT_MS)
        assert errors == [], errors
    finally:
        context.close()


class Publisher:
    """A second author who publishes through the API, with a token pair of their own (refreshed
    before each post: the access token lives only ACCESS_TOKEN_SECONDS)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        account = {"email": f"publisher-{uuid.uuid4().hex[:8]}@example.com", "password": "a-long-enough-password"}
        assert httpx.post(f"{base_url}/api/auth/register/", json=account).is_success
        self.refresh = httpx.post(f"{base_url}/api/auth/token/", json=account).json()["refresh"]

    def publish(self, title: str) -> None:
        pair = httpx.post(f"{self.base_url}/api/auth/token/refresh/", json={"refresh": self.refresh}).json()
        self.refresh = pair["refresh"]
        reply = httpx.post(
            f"{self.base_url}/api/posts/",
            json={"title": title, "body": "", "status": "published"},
            headers={"Authorization": f"Bearer {pair['access']}"},
        )
        assert reply.status_code == 201, reply.text


def held_access_expiry(page) -> float:
    """The `exp` of the access token the page holds (its tab's sessionStorage)."""
    return page.evaluate(
        """() => {
          const tokens = JSON.parse(sessionStorage.getItem("oddstream.demo.tokens") || "null");
          if (!tokens?.access) return 0;
          const payload = tokens.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
          return JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4))).exp;
        }"""
    )


def expect_live(page, publisher: Publisher, title: str) -> None:
    """The page's socket is open and receives a post published now."""
    publisher.publish(title)
    expect(page.locator("#posts li", has_text=title)).to_be_visible(timeout=WAIT_MS)
    expect(log_entries(page, "post_created").filter(has_text=title)).to_have_count(1)
    expect(page.locator("#socket-state")).to_have_text("open")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")


def test_the_feed_stays_live_through_token_rotations_and_a_reload_after_expiry(browser, base_url: str) -> None:
    context, page, errors = open_demo(browser, base_url)
    publisher = Publisher(base_url)
    try:
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        page.fill("#signup-form [name=email]", email)
        page.fill("#signup-form [name=password]", "a-long-enough-password")
        page.click("#signup-form button[type=submit]")
        expect(page.locator("#signed-in-as")).to_contain_text(email, timeout=WAIT_MS)
        expect(page.locator("#socket-state")).to_have_text("open", timeout=WAIT_MS)
        signed_in_at = time.monotonic()

        # At least three rotations and three access lifetimes: each round waits until the token
        # held at its start has expired (the server closes a socket still carrying it, 4401), then
        # publishes.
        rounds = 0
        while rounds < 3 or time.monotonic() - signed_in_at < 3 * ACCESS_TOKEN_SECONDS:
            rounds += 1
            expired_at = held_access_expiry(page)
            assert expired_at, "no access token held"
            time.sleep(max(0.0, expired_at - time.time()) + 0.5)
            assert held_access_expiry(page) > expired_at, "the page did not rotate its access token"
            expect_live(page, publisher, f"After rotation {rounds}")
        rotations = log_entries(page, "auth").filter(has_text="refreshed before it expired")
        assert rotations.count() >= 3
        # Each new token reconnected the socket before the old one expired: the server never had
        # to close it.
        expect(log_entries(page, "socket").filter(has_text="4401")).to_have_count(0)

        # Away from the page (a closed laptop) until its access token has expired, then back:
        # the tab's refresh token keeps the user signed in, and the feed is live again.
        expired_at = held_access_expiry(page)
        page.goto("about:blank")
        time.sleep(max(0.0, expired_at - time.time()) + 1.0)
        page.goto(f"{base_url}/ws-demo/")
        page.wait_for_function("() => window.wsDemo && window.wsDemo.ready", timeout=WAIT_MS)
        expect(page.locator("#access-token")).to_have_attribute("data-held", "true")
        expect(log_entries(page, "auth").filter(has_text="at load")).to_have_count(1)
        expect(page.locator("#signed-in-as")).to_contain_text(email)
        expect(page.locator("#page-error")).to_be_hidden()
        expect(page.locator("#socket-state")).to_have_text("open", timeout=WAIT_MS)
        expect_live(page, publisher, "After the reload")
        expect(log_entries(page, "error")).to_have_count(0)
        assert errors == [], errors
    finally:
        context.close()
