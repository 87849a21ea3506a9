"""Real Chromium (Debian's package) driven by Playwright, against a real stack."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SKIP_REASON


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
