"""How the browser tests start Debian's Chromium (never a browser build downloaded by Playwright)."""

import shutil
from pathlib import Path

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, which a closed network
# refuses; as root it needs --no-sandbox.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SKIP_REASON = "Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
