"""Daphne keeps no database connection past its request, on PostgreSQL.

Under ASGI every HTTP request runs in a thread of its own, so a connection kept for reuse
(CONN_MAX_AGE > 0) is never reused: it stays open until the garbage collector frees its thread,
and one busy Daphne held PostgreSQL's hundred connections within seconds ("sorry, too many
clients already"; every request then answered 503). `python -m config.daphne` loads the
settings before Daphne's own modules, so it must say it serves ASGI (config/daphne.py).
"""

import httpx
import pytest

from tests.integration.harness import Stack

pytestmark = pytest.mark.integration

REQUESTS_PER_PATH = 20
PATHS = ("/api/matches/", "/api/bets/", "/api/wallet/")


def test_daphne_closes_its_database_connections_after_each_request(stack: Stack) -> None:
    if stack.database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL server's connections: run with DATABASE_URL=postgres://...")
    _web, port = stack.start_web()
    base_url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base_url, timeout=10) as client:
        signed_in = client.post("/api/auth/token/", json={"email": "demo@oddstream.local", "password": "demo-password"})
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['access']}"}
        for path in PATHS:
            for _ in range(REQUESTS_PER_PATH):
                assert client.get(path, headers=headers).status_code == 200

    [(held,)] = stack.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    # Before the fix: one connection per request (80) until a garbage collection.
    assert held <= 2, f"{held} connections held after {REQUESTS_PER_PATH * len(PATHS)} requests"
