"""`make test`'s PostgreSQL pass for the race tests: `python -m tests.postgres_races [pytest args]`.

The tests marked `postgres` race real concurrent transactions (row locks, 50 threads on one
wallet), which SQLite serialises: on SQLite they skip. After a SQLite run, this runs them
again on the PostgreSQL at POSTGRES_RACES_URL (pytest-django creates and drops `test_<name>`
there) when one answers, and otherwise prints one line saying they were skipped and why.
It exits with pytest's status (0 when the arguments select no such test).
"""

import os
import subprocess
import sys
from urllib.parse import urlparse

import psycopg

NO_TESTS_COLLECTED = 5


def where(url: str) -> str:
    """host:port/database, without the credentials."""
    parts = urlparse(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def answers(url: str) -> bool:
    """Whether PostgreSQL at `url` accepts a connection (to its maintenance database: the test
    database is created by pytest-django)."""
    try:
        with psycopg.connect(urlparse(url)._replace(path="/postgres").geturl(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def plan(*, database_url: str, races_url: str, reachable: bool) -> str | None:
    """Why the race tests do not run in this pass, or None when they should."""
    if database_url.startswith("postgres"):
        return "they ran in the main pass, which is on PostgreSQL (DATABASE_URL)"
    if not races_url:
        return "POSTGRES_RACES_URL is empty"
    if not reachable:
        return f"no PostgreSQL answers at {where(races_url)} (set POSTGRES_RACES_URL to one)"
    return None


def main(pytest_args: list[str]) -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    races_url = os.environ.get("POSTGRES_RACES_URL", "")
    reachable = bool(races_url) and not database_url.startswith("postgres") and answers(races_url)
    reason = plan(database_url=database_url, races_url=races_url, reachable=reachable)
    if reason is not None:
        print(f"PostgreSQL race tests (marked postgres) not run in a PostgreSQL pass: {reason}.", flush=True)
        return 0
    print(f"== PostgreSQL race tests (marked postgres) on {where(races_url)} ==", flush=True)
    # `-m postgres` last: it replaces any `-m` in the arguments, which still select the files.
    command = [sys.executable, "-m", "pytest", *pytest_args, "-m", "postgres"]
    status = subprocess.run(command, env={**os.environ, "DATABASE_URL": races_url}, check=False).returncode
    return 0 if status == NO_TESTS_COLLECTED else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
