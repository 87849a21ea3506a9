"""Every page under the site's Content-Security-Policy, in a real Chromium against the real stack.

Each page is loaded with the policy enforced (as deployed) and must both work (its socket live,
its chart drawn, the API docs rendered) and cause no violation: the test listens to the
`securitypolicyviolation` events of every document and to the console, where Chromium reports
each refusal. No request may leave for another host: nothing comes from a CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

import httpx
import pytest

from tests.integration.harness import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]

WAIT_MS = 15_000
STAFF = {"email": "admin@oddstream.local", "password": "admin-password"}

# Runs in every document before its own scripts (Playwright injects it outside the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${location.pathname}` +
    ` (${event.sourceFile || "?"}:${event.lineNumber})`,
  );
});
"""


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    _, port = stack.start_web()
    return f"http://127.0.0.1:{port}"


class Watched:
    """A browser context whose pages report every policy violation, console refusal and request
    to another host."""

    def __init__(self, context, base_url: str) -> None:
        self.context = context
        self.host = urlparse(base_url).netloc
        self.violations: list[str] = []
        self.elsewhere: list[str] = []

    @classmethod
    async def open(cls, browser, base_url: str) -> Watched:
        watched = cls(await browser.new_context(), base_url)
        await watched.context.expose_binding("reportCspViolation", lambda source, text: watched.violations.append(text))
        await watched.context.add_init_script(REPORT_VIOLATIONS)
        return watched

    async def page(self):
        page = await self.context.new_page()
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.violations.append(f"page error: {error}"))
        page.on("request", self.on_request)
        return page

    def on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(f"console: {message.text}")

    def on_request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.host:
            self.elsewhere.append(request.url)

    async def visit(self, page, base_url: str, path: str, works: Callable[[object], Awaitable[None]]) -> None:
        response = await page.goto(f"{base_url}{path}")
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, f"{path}: {policy!r}"
        assert "unsafe-inline" not in policy, f"{path}: {policy!r}"
        await works(page)
        await page.wait_for_load_state("networkidle")


async def live(page) -> None:
    await page.wait_for_selector('#connection[data-state="open"]', timeout=WAIT_MS)


def visible(selector: str) -> Callable[[object], Awaitable[None]]:
    async def check(page) -> None:
        await page.wait_for_selector(selector, state="visible", timeout=WAIT_MS)

    return check


async def test_every_page_works_under_the_policy_without_a_violation(browser, base_url: str) -> None:
    match_id = httpx.get(f"{base_url}/api/matches/").json()["results"][0]["id"]
    signed_out = await Watched.open(browser, base_url)
    staff = await Watched.open(browser, base_url)
    try:
        page = await signed_out.page()
        for path, works in [
            ("/", live),
            (f"/matches/{match_id}/", live),
            ("/accounts/signup/", visible("#signup-email")),
            ("/accounts/login/", visible("form button[type=submit]")),
            ("/accounts/reset/bm9ib2R5/not-a-token/", visible("form button[type=submit]")),
            ("/admin/login/", visible("#login-form")),
        ]:
            await signed_out.visit(page, base_url, path, works)

        async def demo_live(page) -> None:
            await page.wait_for_function("() => window.wsDemo && window.wsDemo.ready", timeout=WAIT_MS, polling=100)
            await page.wait_for_selector('#socket-state[data-state="open"]', timeout=WAIT_MS)
            await page.wait_for_selector("#served-notice", state="hidden")

        await signed_out.visit(page, base_url, "/ws-demo/", demo_live)

        async def swagger_rendered(page) -> None:
            await page.wait_for_selector(".swagger-ui .opblock", timeout=WAIT_MS)

        async def redoc_rendered(page) -> None:
            await page.wait_for_selector("redoc .api-content h1", timeout=WAIT_MS)

        await signed_out.visit(page, base_url, "/api/docs/", swagger_rendered)
        await signed_out.visit(page, base_url, "/api/redoc/", redoc_rendered)

        # Staff: the admin (signed in through its own login form), the ops page, the bettor's pages.
        page = await staff.page()
        await page.goto(f"{base_url}/admin/login/")
        await page.fill("#id_username", STAFF["email"])
        await page.fill("#id_password", STAFF["password"])
        await page.click("#login-form [type=submit]")
        await page.wait_for_url(f"{base_url}/admin/")

        async def charts_drawn(page) -> None:
            await page.wait_for_selector("#latency-chart .uplot canvas", timeout=WAIT_MS)

        for path, works in [
            ("/admin/", visible("#content-main")),
            ("/admin/betting/match/", visible("#result_list")),
            ("/admin/betting/match/add/", visible("#match_form")),
            ("/ops/", charts_drawn),
            ("/me/bets/", live),
            ("/me/wallet/", live),
            ("/me/safer-gambling/", visible("main h1")),
            ("/ws-demo/", demo_live),
        ]:
            await staff.visit(page, base_url, path, works)
    finally:
        await signed_out.context.close()
        await staff.context.close()
    assert signed_out.violations + staff.violations == []
    assert signed_out.elsewhere + staff.elsewhere == []


async def test_the_watcher_sees_a_violation(browser, base_url: str) -> None:
    """The listener works: an inline script on a page of the site is refused and reported."""
    watched = await Watched.open(browser, base_url)
    try:
        page = await watched.page()
        await page.goto(f"{base_url}/accounts/login/")
        await page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.inlineRan = true";
              document.body.append(script);
            }"""
        )
        await page.wait_for_timeout(500)
        assert await page.evaluate("window.inlineRan === undefined")
    finally:
        await watched.context.close()
    assert any("script-src" in violation for violation in watched.violations), watched.violations
