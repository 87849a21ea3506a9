"""Start the real processes of Oddstream for integration tests, and clean them up.

A `Stack` owns a fresh database (a SQLite file, or a new PostgreSQL database when
DATABASE_URL names PostgreSQL), a Redis (the one at REDIS_URL if it answers, else an
embedded one on a free port), a pub/sub prefix of its own, and the Daphne and Celery
processes it starts. Every process listens on 127.0.0.1 only, and every wait is bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
import redis

from workers.embedded_redis import free_port, redis_answers, start_embedded

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def maintenance_url(database_url: str) -> str:
    """The same server's `postgres` database: where databases are created and dropped."""
    return urlparse(database_url)._replace(path="/postgres").geturl()


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def start_reader(self) -> None:
        def read() -> None:
            assert self.popen.stdout is not None
            for line in self.popen.stdout:
                self.lines.append(line.rstrip())

        threading.Thread(target=read, daemon=True).start()

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not print {text!r}:\n" + "\n".join(self.lines[-40:]))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


# Migrated databases with the demo data, made once per test run and per database server, that
# each new stack's database starts as a copy of. `migrate` and `load_demo_data` are two Django
# start-ups and a few hundred statements (about 20 s on 2 shared cores); a copy is well under
# a second, and the demo data's kick-offs are a day ahead, so a copy made earlier in the run is
# as good as a fresh one. Key: "sqlite", or the PostgreSQL server's maintenance URL.
_TEMPLATES: dict[str, str] = {}
_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="oddstream-stack-templates-"))


@atexit.register
def _drop_templates() -> None:
    for server, template in _TEMPLATES.items():
        if server != "sqlite":
            with contextlib.suppress(psycopg.Error), psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    shutil.rmtree(_TEMPLATE_DIR, ignore_errors=True)


class Stack:
    def __init__(self, workdir: Path, dedicated_redis: bool = False) -> None:
        """`dedicated_redis`: always start a Redis of its own (on a free port), which the test
        may stop and start again; never the machine's."""
        self.workdir = workdir
        self.processes: list[ManagedProcess] = []
        self._dedicated_redis = dedicated_redis
        self._redis_port: int | None = None
        self._embedded_redis: subprocess.Popen[bytes] | None = None
        self._pg_database: str | None = None
        self.redis_url = self._redis()
        self.database_url = self._database()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "False",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "REALTIME_PREFIX": f"it-{uuid.uuid4().hex[:10]}",
            "REALTIME_HEARTBEAT_SECONDS": os.environ.get("IT_HEARTBEAT_SECONDS", "2"),
            "ODDS_RECONCILE_SECONDS": "2",
            "PYTHONUNBUFFERED": "1",
        }

    # --- Resources --------------------------------------------------------------
    def _redis(self) -> str:
        base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        database = os.environ.get("TEST_REDIS_DB", "15")
        if redis_answers(base) and not self._dedicated_redis:
            url = urlparse(base)._replace(path=f"/{database}").geturl()
        else:
            self._redis_port = free_port()
            self._embedded_redis = start_embedded(self._redis_port)
            url = f"redis://127.0.0.1:{self._redis_port}/{database}"

        redis.Redis.from_url(url).flushdb()  # queues and flags of an earlier, killed run
        return url

    def _database(self) -> str:
        configured = os.environ.get("DATABASE_URL", "")
        if configured.startswith(("postgres://", "postgresql://")):
            name = f"oddstream_it_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(maintenance_url(configured), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self._pg_database = name
            return urlparse(configured)._replace(path=f"/{name}").geturl()
        return f"sqlite:///{self.workdir / 'integration.sqlite3'}"

    def prepare(self) -> None:
        """Migrate the stack's database and load the demo data: from a copy of the first stack's
        of this run on the same database server, made after its `load_demo_data`."""
        server = "sqlite" if self.database_url.startswith("sqlite") else maintenance_url(self.database_url)
        template = _TEMPLATES.get(server)
        if template is not None:
            self._copy_database(template, server)
            return
        self.manage("migrate", "--noinput")
        self.manage("load_demo_data")
        if server == "sqlite":
            template = str(_TEMPLATE_DIR / f"{uuid.uuid4().hex[:10]}.sqlite3")
            with sqlite3.connect(self._sqlite_path()) as source, sqlite3.connect(template) as copy:
                source.backup(copy)  # WAL included, whatever is checkpointed
        else:
            template = f"oddstream_it_template_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{urlparse(self.database_url).path[1:]}"')
        _TEMPLATES[server] = template

    def _sqlite_path(self) -> str:
        return self.database_url.removeprefix("sqlite:///")

    def _copy_database(self, template: str, server: str) -> None:
        if server == "sqlite":
            with sqlite3.connect(template) as source, sqlite3.connect(self._sqlite_path()) as copy:
                source.backup(copy)
            return
        name = urlparse(self.database_url).path[1:]
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')  # made empty by _database()
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one read straight from the stack's database (SQLite or PostgreSQL), without
        Django: it works whatever state the stack's processes are in."""
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self._sqlite_path(), timeout=10) as conn:
                return list(conn.execute(sql).fetchall())
        with psycopg.connect(self.database_url, connect_timeout=3) as conn:
            return list(conn.execute(sql).fetchall())

    # --- Processes --------------------------------------------------------------
    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _spawn(self, name: str, args: list[str]) -> ManagedProcess:
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        process = ManagedProcess(name, popen)
        process.start_reader()
        self.processes.append(process)
        return process

    def start_web(
        self, port: int | None = None, application: str = "config.asgi:application"
    ) -> tuple[ManagedProcess, int]:
        port = port or free_port()
        process = self._spawn(
            f"daphne:{port}",
            [str(BIN / "python"), "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port), application],
        )
        # Importing the project takes 8 s of CPU (numpy, scipy): on a loaded machine, far longer.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return process, port
            except httpx.HTTPError:
                pass
            if process.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("Daphne did not start:\n" + "\n".join(process.lines[-40:]))

    def start_worker(self, *extra: str, concurrency: int = 1) -> ManagedProcess:
        process = self._spawn(
            "celery-worker",
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "worker",
                "-Q",
                "feed,bet_delay,odds,settlement,default",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
                *extra,
            ],
        )
        # As Daphne's wait above: a worker's start took over a minute on a loaded shared machine.
        process.wait_for_line("ready.", timeout=180)
        return process

    def start_in_play(self, *, provider: str, bet_delay: float, reopen: float) -> tuple[int, str]:
        """A worker and Daphne with short in-play delays (the bet delay, the reopening after a
        goal, the bet sweep every second), and a feed token for `provider`: (port, token)."""
        self.env.update(
            INPLAY_BET_DELAY_SECONDS=str(bet_delay),
            INPLAY_REOPEN_SECONDS=str(reopen),
            INPLAY_BET_SWEEP_SECONDS="1",
        )
        token = self.manage("feed_token", provider).strip()
        worker = self.start_worker()
        # The worker must consume the feed and the bet-delay queues, or no frame ever comes.
        worker.wait_for_line("bet_delay", timeout=5)
        _, port = self.start_web()
        return port, token

    def kill_redis(self) -> None:
        """Kill the stack's own Redis at once (SIGKILL: no goodbye to its clients)."""
        assert self._embedded_redis is not None, "only a Stack(dedicated_redis=True) may stop its Redis"
        self._embedded_redis.kill()
        self._embedded_redis.wait(timeout=10)

    def restart_redis(self) -> None:
        """Start the stack's Redis again on the same port, empty (it never persists)."""
        assert self._redis_port is not None
        self._embedded_redis = start_embedded(self._redis_port)

    def start_beat(self) -> ManagedProcess:
        return self._spawn(
            "celery-beat",
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.workdir / "celerybeat-schedule"),
            ],
        )

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self._embedded_redis is not None:
            self._embedded_redis.terminate()
            self._embedded_redis.wait(timeout=10)
        if self._pg_database is not None:
            with psycopg.connect(maintenance_url(os.environ["DATABASE_URL"]), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_database}" WITH (FORCE)')


@functools.cache
def bearer_headers(base_url: str, email: str, password: str) -> dict[str, str]:
    """An `Authorization: Bearer` header for the account, one sign-in per server and account
    (HTTP Basic is off outside DEBUG, and sign-ins are throttled)."""
    reply = httpx.post(f"{base_url}/api/auth/token/", json={"email": email, "password": password}, timeout=10)
    if reply.status_code != 200:
        raise RuntimeError(f"Sign-in failed ({reply.status_code}): {reply.text}")
    return {"Authorization": f"Bearer {reply.json()['access']}"}


def new_bet_key() -> dict[str, str]:
    """The header of one new bet: a fresh `Idempotency-Key` (required on `POST /api/bets/`),
    sent again unchanged only to retry that same bet."""
    return {"Idempotency-Key": uuid.uuid4().hex}


async def session_client(base_url: str, username: str, password: str) -> httpx.AsyncClient:
    """An HTTP client signed in with a Django session, sending the CSRF header as a page would.

    (Basic auth would hash the password on every request: about 300 ms each.)
    """
    client = httpx.AsyncClient(base_url=base_url)
    await client.get("/accounts/login/")
    token = client.cookies["csrftoken"]
    reply = await client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/accounts/login/"},
    )
    if "sessionid" not in client.cookies:
        raise RuntimeError(f"Sign-in failed ({reply.status_code})")
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    client.headers["Referer"] = f"{base_url}/"
    return client
