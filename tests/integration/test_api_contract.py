"""The live API keeps its OpenAPI contract, checked by schemathesis from outside.

Daphne serves the demo data; schemathesis reads /api/schema/ and sends generated requests, valid
and invalid, signed in as the demo bettor and then as the trader (staff), with every check it
has (`--checks all`: status codes, content types, bodies and headers against the schema, valid
input accepted, invalid input refused, authentication enforced where the schema says so).
The seed is fixed and the examples per operation bounded, so a run is reproducible and takes
about two minutes. Refusals that depend on data the schema cannot know are listed, with the
reason, in schemathesis.toml beside this file.

Generated bodies stay shallow, so one case is added by hand: every operation that takes a body
gets bodies nested two thousand deep (arrays, objects, one left open), which Python's decoder
cannot read without a RecursionError, and must answer the documented 400.
"""

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import schemathesis

from tests.integration.harness import BIN, Stack

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261122
EXAMPLES_PER_OPERATION = 20
ROLES = {
    "bettor": ("demo@oddstream.local", "demo-password"),
    "trader": ("admin@oddstream.local", "admin-password"),
}
# Throttles are part of the contract (429 is documented), but a run of a thousand requests
# from one address would spend most of it throttled.
RAISED_LIMITS = {
    "THROTTLE_AUTH": "100000/minute",
    "THROTTLE_BETS": "100000/minute",
    "BLOG_POST_WRITE_RATE": "100000/minute",
    "JWT_ACCESS_SECONDS": "3600",
}


def schemathesis_run(base_url: str, access_token: str, report_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "st"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base_url}/api/schema/?format=json",
            "--url",
            base_url,
            "--checks",
            "all",
            "--seed",
            str(SEED),
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--header",
            f"Authorization: Bearer {access_token}",
            # Signing out and taking a break end every credential of the account, the run's own
            # token included, so every later request would be a 401: their own tests cover them.
            "--exclude-name-regex",
            "^POST /api/(auth/logout|me/time-out|me/self-exclusion)/$",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_live_api_keeps_its_openapi_contract(stack: Stack, tmp_path: Path) -> None:
    stack.env.update(RAISED_LIMITS)
    web, port = stack.start_web()
    base_url = f"http://127.0.0.1:{port}"
    failures = []
    for role, (email, password) in ROLES.items():
        token = httpx.post(f"{base_url}/api/auth/token/", json={"email": email, "password": password}, timeout=10)
        assert token.status_code == 200, token.text
        started = time.monotonic()
        result = schemathesis_run(base_url, token.json()["access"], tmp_path / role)
        summary = [line for line in result.stdout.splitlines() if "generated" in line or "passed" in line]
        print(f"schemathesis as {role}: exit {result.returncode} in {time.monotonic() - started:.0f} s; {summary}")
        if result.returncode != 0:
            failures.append(f"--- as the {role} ---\n{result.stdout[-20000:]}\n{result.stderr[-2000:]}")
    assert not failures, "\n".join(failures)
    # A 4xx for every bad request, and never an error the server only logged.
    logged = "\n".join(web.lines)
    assert "Traceback" not in logged and "Internal Server Error" not in logged, logged[-5000:]


HOSTILE_BODIES = {
    "arrays": "[" * 2000 + "]" * 2000,
    "objects": '{"a":' * 2000 + "1" + "}" * 2000,
    "unclosed": "[" * 50_000,
}


def test_deeply_nested_bodies_are_the_documented_400_on_every_operation(stack: Stack) -> None:
    # The contract run before this one signs in wrongly many times from this address: start with
    # the address's failures forgotten, as an operator would after such a run.
    stack.manage("axes_reset")
    web, port = stack.start_web()
    base_url = f"http://127.0.0.1:{port}"
    email, password = ROLES["trader"]
    token = httpx.post(f"{base_url}/api/auth/token/", json={"email": email, "password": password}, timeout=10)
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access']}", "Content-Type": "application/json"}
    # Any match: the contract run before may have settled every one the board lists.
    match_id = stack.query("SELECT id FROM betting_match ORDER BY id LIMIT 1")[0][0]
    post = httpx.post(f"{base_url}/api/posts/", json={"title": "Deep", "body": "x"}, headers=headers, timeout=10)
    assert post.status_code == 201, post.text
    raw_schema = httpx.get(f"{base_url}/api/schema/?format=json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(raw_schema)
    # The feed endpoint takes a provider's token, never a bettor's or a trader's JWT.
    feed_headers = {**headers, "Authorization": f"Feed {stack.manage('feed_token', 'contract').strip()}"}
    checked = []
    for path, operations in raw_schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            object_id = post.json()["id"] if path.startswith("/api/posts/") else match_id
            url = base_url + path.replace("{id}", str(object_id)).replace("{provider}", "instant")
            # A provider callback's body is read with the same depth bound before its signature
            # is checked, so it too is the documented 400.
            expected = (400, "malformed")
            for kind, body in HOSTILE_BODIES.items():
                sent = feed_headers if path.startswith("/api/feed/") else headers
                # A bet without its Idempotency-Key is a 428 before the body is read.
                sent = {**sent, "Idempotency-Key": str(uuid.uuid4())}
                reply = httpx.request(method, url, content=body, headers=sent, timeout=10)
                assert (reply.status_code, reply.json()["code"]) == expected, (method, path, kind, reply.text[:300])
                schema[path][method].validate_response(reply)  # the documented error body
            checked.append(f"{method.upper()} {path}")
    assert len(checked) >= 10, checked
    logged = "\n".join(web.lines)
    assert "Traceback" not in logged and "RecursionError" not in logged, logged[-5000:]
