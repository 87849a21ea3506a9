"""A Stack whose dependencies the fault tests may kill: its own Redis servers, and on request
its own PostgreSQL cluster.

Never the machine's Redis or PostgreSQL cluster: other runs use them. The data Redis (cache,
pub/sub, presence) and the broker Redis are two private `redis-server` processes on free
ports, so "the broker is unreachable" and "Redis restarted empty" are separate faults. A
private PostgreSQL cluster (initdb + pg_ctl, from /usr/lib/postgresql/*/bin) lives in a
temporary directory on a free port and may be crashed and restarted.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.integration.harness import BIN, ManagedProcess, Stack
from workers.embedded_redis import free_port, start_embedded

TEST_DATABASE = os.environ.get("TEST_REDIS_DB", "15")


class PrivateRedis:
    """A `redis-server` on a free port of 127.0.0.1, without persistence: a restart is empty."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = TEST_DATABASE) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.process = start_embedded(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def postgres_binaries() -> Path | None:
    """The newest installed server's bin directory, if initdb and pg_ctl are there."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{candidate}/initdb", os.X_OK) and os.access(f"{candidate}/pg_ctl", os.X_OK):
            return Path(candidate)
    return None


class PrivateCluster:
    """A throw-away PostgreSQL cluster on a free port (trust auth on 127.0.0.1).

    PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
    """

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="oddstream-fault-pg-"))
        self.data = self.directory / "data"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres, str(self.binaries / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            # fsync off is safe here: the test crashes PostgreSQL, never the kernel, so written
            # pages survive in the page cache. synchronous_commit stays on: without it a crash
            # loses transactions already reported committed.
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def crash(self) -> None:
        """Stop at once, as a crash would (the next start runs crash recovery)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


class FaultStack(Stack):
    def __init__(self, workdir: Path, cluster: PrivateCluster | None = None) -> None:
        self.data_redis = PrivateRedis()
        self.broker_redis = PrivateRedis()
        self.cluster = cluster
        self.restarts: list[str] = []  # what the supervisor restarted, and why
        self._supervising = threading.Event()
        super().__init__(workdir)
        self.broker_redis.start()
        self.env.update(
            CELERY_BROKER_URL=self.broker_redis.url(),
            # Many bets a second from one bettor: the per-user throttle is not under test.
            THROTTLE_BETS="100000/minute",
            CONN_MAX_AGE="60",
            # In-play bets decided in seconds: a pending bet outlives a worker's kill and restart.
            INPLAY_BET_DELAY_SECONDS="2",
            INPLAY_BET_SWEEP_SECONDS="1",
            INPLAY_BET_DECISION_LIMIT_SECONDS="60",
        )

    def _redis(self) -> str:
        self.data_redis.start()
        return self.data_redis.url()

    def _database(self) -> str:
        if self.cluster is None:
            return super()._database()
        self.cluster.start()
        self.cluster.create_database("oddstream")
        return self.cluster.url("oddstream")

    def start_beat(self) -> ManagedProcess:
        process = self._spawn(
            "celery-beat",
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "beat",
                "--schedule",
                str(self.workdir / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
        )
        process.wait_for_line("beat: Starting", timeout=60)
        return process

    def supervise(self, worker_concurrency: int) -> None:
        """Restart the worker and beat whenever they exit, a second later, as systemd
        (Restart=always) or compose (restart: unless-stopped) does in production."""
        self._supervising.set()

        def watch() -> None:
            while self._supervising.is_set():
                for name, start in (
                    ("celery-worker", lambda: self.start_worker(concurrency=worker_concurrency)),
                    ("celery-beat", self.start_beat),
                ):
                    newest = next((p for p in reversed(self.processes) if p.name == name), None)
                    if newest is not None and newest.popen.poll() is not None and self._supervising.is_set():
                        last = next((x for x in reversed(newest.lines) if "Error" in x), "")
                        self.restarts.append(f"{name} exited ({newest.popen.returncode}) {last[:200]}".strip())
                        time.sleep(1.0)
                        start()
                time.sleep(0.2)

        threading.Thread(target=watch, daemon=True).start()

    def process_named(self, prefix: str) -> ManagedProcess:
        """The newest live process whose name starts with `prefix`."""
        return next(p for p in reversed(self.processes) if p.name.startswith(prefix) and p.popen.poll() is None)

    def log_tails(self, lines: int = 25) -> str:
        """The last lines of every process this stack started: what a failed check shows."""
        return "\n".join(
            f"--- {p.name} (exit {p.popen.poll()}):\n" + "\n".join(p.lines[-lines:]) for p in self.processes
        )

    def kill_group(self, process: ManagedProcess) -> None:
        """SIGKILL a process and every child of it (a Celery worker and its pool)."""
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=10)

    def close(self) -> None:
        self._supervising.clear()
        time.sleep(0.5)  # let a restart in progress finish, so close() stops it too
        try:
            super().close()
        finally:
            self.data_redis.kill()
            self.broker_redis.kill()
            if self.cluster is not None:
                self.cluster.remove()

    # --- What the database holds --------------------------------------------------
    def match_states(self, match_ids: list[int]) -> dict[int, dict[str, int]]:
        """Per match: the bets taken (`bet_sequence`), the bets the odds count, the odds
        version, and the bet rows; straight from the database, so it works whatever the web
        processes are doing."""
        marks = ",".join(str(int(m)) for m in match_ids)
        matches_sql = f"SELECT id, bet_sequence, bets_counted, odds_version FROM betting_match WHERE id IN ({marks})"
        bets_sql = f"SELECT match_id, COUNT(*) FROM betting_bet WHERE match_id IN ({marks}) GROUP BY match_id"
        rows = self.query(matches_sql)
        counts = self.query(bets_sql)
        bets = dict(counts)
        return {
            row[0]: {"taken": row[1], "counted": row[2], "version": row[3], "rows": bets.get(row[0], 0)} for row in rows
        }

    def jwt(self, base_url: str, email: str, password: str) -> str:
        reply = httpx.post(f"{base_url}/api/auth/token/", json={"email": email, "password": password}, timeout=10)
        reply.raise_for_status()
        return str(reply.json()["access"])

    def create_matches(self, base_url: str, count: int) -> list[int]:
        token = self.jwt(base_url, "admin@oddstream.local", "admin-password")
        ids = []
        for number in range(count):
            reply = httpx.post(
                f"{base_url}/api/matches/",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "home_team": f"Fault {number}",
                    "away_team": "Test",
                    "kickoff": "2099-01-01T12:00:00Z",
                    "opening_odds": {"home": "2.10", "draw": "3.40", "away": "3.50"},
                    "status": "open",
                },
                timeout=10,
            )
            reply.raise_for_status()
            ids.append(int(reply.json()["id"]))
        return ids


@contextlib.contextmanager
def running_fault_stack(
    workdir: Path, cluster: PrivateCluster | None = None, stack: FaultStack | None = None
) -> Iterator[FaultStack]:
    """Private Redis servers (data and broker), its own database (on `cluster` if given), one
    web process, a worker with two pool processes, and beat (reconciliation every 2 s), both
    restarted when they exit, as in production. `stack`: a FaultStack made otherwise (its
    Redis, say), to start the same processes on."""
    stack = stack or FaultStack(workdir, cluster=cluster)
    try:
        stack.prepare()  # migrated, with the demo data
        stack.start_web()
        stack.start_worker(concurrency=2)
        stack.start_beat()
        stack.supervise(worker_concurrency=2)
        yield stack
    finally:
        stack.close()


def wait_until(predicate: Any, timeout: float, interval: float = 0.2) -> float | None:
    """Poll until `predicate()` is true; the seconds it took, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if predicate():
                return time.monotonic() - started
        except Exception:  # a dependency still down: keep polling
            pass
        time.sleep(interval)
    return None
