"""`make test` runs the PostgreSQL race tests when PostgreSQL answers, and says so when not."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import postgres_races
from workers.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
RACE_TEST_FILES = ["betting/tests/test_concurrency.py", "betting/tests/test_integrity.py"]
SQLITE = ""
SQLITE_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
PG = "postgres://postgres@127.0.0.1:5432/h_any"


def test_the_race_tests_run_on_a_postgresql_that_answers() -> None:
    assert postgres_races.plan(database_url=SQLITE, races_url=PG, reachable=True) is None


@pytest.mark.parametrize(
    ("database_url", "races_url", "reachable", "says"),
    [
        (PG, PG, True, "ran in the main pass"),
        (SQLITE, "", False, "POSTGRES_RACES_URL is empty"),
        (SQLITE, PG, False, "no PostgreSQL answers at 127.0.0.1:5432/h_any"),
    ],
)
def test_otherwise_one_line_says_why_not(database_url, races_url, reachable, says) -> None:
    reason = postgres_races.plan(database_url=database_url, races_url=races_url, reachable=reachable)
    assert reason is not None and says in reason


def test_an_unreachable_postgresql_is_reported_without_running_pytest(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("POSTGRES_RACES_URL", f"postgres://nobody:secret@127.0.0.1:{free_port()}/races")
    monkeypatch.setattr(postgres_races.subprocess, "run", lambda *a, **k: pytest.fail("pytest must not run"))
    assert postgres_races.main(["betting"]) == 0
    line = capsys.readouterr().out
    assert "not run in a PostgreSQL pass: no PostgreSQL answers at 127.0.0.1:" in line and "secret" not in line


def test_on_sqlite_the_race_tests_skip_and_say_where_they_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "postgres", *RACE_TEST_FILES],
        env={**SQLITE_ENVIRONMENT, "DJANGO_SETTINGS_MODULE": "config.settings.test_fast"},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert "4 skipped" in result.stdout, result.stdout + result.stderr
    assert result.stdout.count("Needs PostgreSQL") == 4
    assert "on sqlite; `make test` runs the tests marked `postgres` again on PostgreSQL" in result.stdout
