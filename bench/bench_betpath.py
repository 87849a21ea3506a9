"""The bet path benchmark: what one bet costs against a plain DRF insert, measured side by side.

Topology, as in production: gunicorn serves the API (`BENCH_BETPATH_GUNICORN`, 2 sync workers
by default), one Daphne and one Celery worker run beside it, PostgreSQL (a database of the
bench's own on the machine's server, dropped afterwards) and the Redis of `make bench`. Every
server listens on 127.0.0.1 and the load comes from this process only.

Phases, repeated RUNS times in turn so that the machine's noise falls on all of them alike:
- `insert`: the peer, `POST /bench/insert/` (bench/peer.py): JWT, a serializer, one row;
- `hot`: `POST /api/bets/` on one match;
- `spread`: the same bets over MATCHES matches;
each closed loop: CONNECTIONS clients send one request after another for SECONDS (a fresh
`Idempotency-Key` per bet, BETTORS bettors, `accept_odds_change=any`, stake 2.00). Then
- `open`: open loop at OPEN_RATE bets/s on the hot match: bet i leaves at start + i / rate
  whatever the earlier ones are doing, and its latency counts from then.

For every phase: requests/s, gunicorn CPU per request (the workers' user + system time from
/proc over the phase, divided by the answers), PostgreSQL backend CPU per request (the
backends of the bench's database), the Celery worker's CPU and the odds versions it published
(what coalescing bounds), and latency percentiles. Every figure printed is the median over
the runs, and bets are also given as a ratio of the insert's figure of the same run. Before
the phases, one connection times BEGIN; INSERT; COMMIT in a loop: the database's commit
ceiling. Writes docs/bench/betpath.json and .md.

Scale (environment): BENCH_BETPATH_SECONDS (8), BENCH_BETPATH_RUNS (3),
BENCH_BETPATH_CONNECTIONS (8), BENCH_BETPATH_OPEN_RATE (100), BENCH_BETPATH_GUNICORN
("-w 2"), BENCH_BETPATH_PHASES ("insert,hot,spread,open"), BENCH_BETPATH_PROFILE=1 (py-spy
on one gunicorn worker during the first `hot` phase, to docs/bench/profile-betpath.txt).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.bench_delivery import percentile, wait_for_port
from bench.bench_system import bench_data_create
from tests.integration.harness import BIN, ROOT, ManagedProcess, Stack
from workers.embedded_redis import free_port

SECONDS = float(os.environ.get("BENCH_BETPATH_SECONDS", "8"))
RUNS = int(os.environ.get("BENCH_BETPATH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_BETPATH_CONNECTIONS", "8"))
OPEN_RATE = float(os.environ.get("BENCH_BETPATH_OPEN_RATE", "100"))
GUNICORN = shlex.split(os.environ.get("BENCH_BETPATH_GUNICORN", "-w 2"))
PHASES = os.environ.get("BENCH_BETPATH_PHASES", "insert,hot,spread,open").split(",")
PROFILE = os.environ.get("BENCH_BETPATH_PROFILE") == "1"
MATCHES, BETTORS = 10, 64
WARM_UP_SECONDS = 2.0
REQUEST_TIMEOUT = 10.0
STARTUP_TIMEOUT = 180.0
TICK = os.sysconf("SC_CLK_TCK")
OUT = ROOT / "docs" / "bench"


@dataclass
class Phase:
    phase: str
    requests_per_s: float
    gunicorn_cpu_ms: float
    postgres_cpu_ms: float
    worker_cpu_ms_per_s: float
    odds_versions_per_s: float
    p50_ms: float
    p99_ms: float
    failed: int


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each process so far (a process gone is left out)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between the two readings by the processes alive at the second: one started in
    between (a database connection opened anew) counts from zero; one that ended is lost."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(found) >= count:
            return [int(p) for p in found]
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn started {found} of {count} workers")


def worker_count(options: list[str]) -> int:
    for flag in ("-w", "--workers"):
        if flag in options:
            return int(options[options.index(flag) + 1])
    return 1


class Servers:
    """gunicorn, Daphne and a Celery worker on the stack, with bench.settings."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.port = free_port()
        # One access-log line per request: status and time inside gunicorn (µs).
        options = [*GUNICORN, "--access-logfile", "-", "--access-logformat", "REQ %(U)s %(s)s %(D)s"]
        self.gunicorn = stack._spawn(
            "gunicorn",
            [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{self.port}", *options],
        )
        wait_for_port(self.port, timeout=STARTUP_TIMEOUT)
        self.gunicorn_pids = children(self.gunicorn.popen.pid, worker_count(GUNICORN))
        # Idle beside gunicorn, as in production (started here with a longer wait than the
        # integration harness's: on a loaded shared machine its start-up takes tens of seconds).
        ws_port = free_port()
        self.daphne = stack._spawn(
            "daphne",
            [
                str(BIN / "python"),
                "-m",
                "config.daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(ws_port),
                "config.asgi:application",
            ],
        )
        wait_for_port(ws_port, timeout=STARTUP_TIMEOUT)
        self.worker: ManagedProcess = stack._spawn(
            "celery-worker",
            [
                *(str(BIN / "celery"), "-A", "workers", "worker", "-Q", "feed,odds,settlement,default"),
                *("--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"),
            ],
        )
        self.worker.wait_for_line("ready.", timeout=STARTUP_TIMEOUT)

    def worker_pids(self) -> list[int]:
        pid = self.worker.popen.pid
        return [pid, *(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]

    def postgres_pids(self) -> list[int]:
        rows = self.stack.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [int(row[0]) for row in rows]


def raw_request(port: int, path: str, token: str, body: dict[str, Any], key: bool) -> bytes:
    payload = json.dumps(body).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        # gunicorn's sync worker closes after each answer; so does nginx in front of it.
        "Connection: close",
    ]
    if key:
        lines.append(f"Idempotency-Key: {uuid.uuid4().hex}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def send(port: int, request: bytes) -> int:
    """One request on its own connection (the load generator is raw asyncio sockets: an HTTP
    client library would cost this shared machine more CPU than the server under test);
    returns the status, 0 on a connection error or a timeout."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            answer = await reader.read()  # to EOF: the server closes
            writer.close()
        return int(answer[9:12]) if answer[:5] == b"HTTP/" else 0
    except (OSError, TimeoutError, ValueError):
        return 0


class Load:
    def __init__(self, port: int, setup: dict[str, Any]) -> None:
        self.port = port
        self.tokens: list[str] = setup["tokens"]
        self.matches: list[int] = setup["matches"]

    def request(self, phase: str, number: int) -> tuple[bytes, int]:
        """The request of number `number` in the phase, and the status that means success."""
        token = self.tokens[number % len(self.tokens)]
        if phase == "insert":
            return raw_request(self.port, "/bench/insert/", token, {"note": f"row {number}"}, key=False), 201
        matches = self.matches if phase == "spread" else self.matches[:1]
        body = {
            "match": matches[number % len(matches)],
            "selection": ("home", "draw", "away")[number % 7 % 3],
            "stake": "2.00",
            "accept_odds_change": "any",
        }
        return raw_request(self.port, "/api/bets/", token, body, key=True), 201

    async def closed(self, phase: str, seconds: float) -> tuple[list[float], int]:
        latencies: list[float] = []
        failed = 0
        counter = iter(range(10**9))
        end = time.monotonic() + seconds

        async def client() -> None:
            nonlocal failed
            while time.monotonic() < end:
                request, ok = self.request(phase, next(counter))
                started = time.monotonic()
                status = await send(self.port, request)
                if status == ok:
                    latencies.append(time.monotonic() - started)
                else:
                    failed += 1

        await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
        return latencies, failed

    async def open(self, rate: float, seconds: float) -> tuple[list[float], int]:
        latencies: list[float] = []
        failed = 0

        async def one(number: int, scheduled: float) -> None:
            nonlocal failed
            request, ok = self.request("hot", number)
            if await send(self.port, request) == ok:
                latencies.append(time.monotonic() - scheduled)
            else:
                failed += 1

        started = time.monotonic()
        tasks = []
        for number in range(int(rate * seconds)):
            scheduled = started + number / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(one(number, scheduled)))
        await asyncio.gather(*tasks)
        return latencies, failed


def odds_versions(stack: Stack) -> int:
    return int(stack.query("SELECT count(*) FROM betting_oddsversion")[0][0])


def run_phase(stack: Stack, servers: Servers, load: Load, phase: str, profile: bool = False) -> Phase:
    before = (
        cpu_seconds(servers.gunicorn_pids),
        cpu_seconds(servers.postgres_pids()),
        cpu_seconds(servers.worker_pids()),
        odds_versions(stack),
    )
    profiler = py_spy(servers.gunicorn_pids[0]) if profile else None
    started = time.monotonic()
    if phase == "open":
        latencies, failed = asyncio.run(load.open(OPEN_RATE, SECONDS))
    else:
        latencies, failed = asyncio.run(load.closed(phase, SECONDS))
    elapsed = time.monotonic() - started
    gunicorn_cpu = cpu_since(before[0], cpu_seconds(servers.gunicorn_pids))
    postgres_cpu = cpu_since(before[1], cpu_seconds(servers.postgres_pids()))
    # The worker's recomputes trail the bets: give them a moment, and charge it to the phase.
    time.sleep(1.0)
    worker_cpu = cpu_since(before[2], cpu_seconds(servers.worker_pids()))
    versions = odds_versions(stack) - before[3]
    if profiler is not None:
        profiler.wait(timeout=60)
    drain(servers)
    answered = max(1, len(latencies))
    return Phase(
        phase=phase,
        requests_per_s=len(latencies) / elapsed,
        gunicorn_cpu_ms=1000 * gunicorn_cpu / answered,
        postgres_cpu_ms=1000 * postgres_cpu / answered,
        worker_cpu_ms_per_s=1000 * worker_cpu / (elapsed + 1.0),
        odds_versions_per_s=versions / (elapsed + 1.0),
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        failed=failed,
    )


def drain(servers: Servers, quiet: float = 1.0, timeout: float = 120.0) -> None:
    """Wait until gunicorn has answered what is still queued (requests whose client gave up are
    served all the same): the next phase must not start behind the last one's backlog."""
    deadline = time.monotonic() + timeout
    seen = len(servers.gunicorn.lines)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if len(servers.gunicorn.lines) == seen:
            return
        seen = len(servers.gunicorn.lines)
    print("   warning: gunicorn still busy after the drain timeout", flush=True)


def commit_ceiling(database_url: str, seconds: float = 3.0) -> dict[str, Any]:
    """One connection, BEGIN; INSERT one row; COMMIT in a loop: the commits per second of the
    database alone, and its median commit (the WAL flush a bet's COMMIT waits for too)."""
    commits: list[float] = []
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id serial, note text)")
        conn.commit()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            conn.execute("INSERT INTO bench_commit_probe (note) VALUES ('x')")
            started = time.monotonic()
            conn.commit()
            commits.append(time.monotonic() - started)
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method')"
            ).fetchall()
        )
    return {
        "commits_per_s": len(commits) / seconds,
        "commit_p50_ms": percentile(commits, 0.5) * 1000,
        "commit_p99_ms": percentile(commits, 0.99) * 1000,
        **{f"postgres_{name}": value for name, value in settings.items()},
    }


def py_spy(pid: int) -> subprocess.Popen[bytes]:
    OUT.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "py-spy"), "record", "-p", str(pid), "-d", str(int(SECONDS)), "-r", "200"]
    return subprocess.Popen(
        [*command, "--format", "raw", "-o", str(OUT / "profile-betpath.raw"), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise_profile() -> None:
    """Inclusive share of the samples per frame of the project (and Django), idle left out."""
    raw = OUT / "profile-betpath.raw"
    if not raw.exists():
        return
    totals: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples += int(count)
        for frame in set(stack.split(";")):
            totals[frame] = totals.get(frame, 0) + int(count)
    top = sorted(totals.items(), key=lambda item: -item[1])[:60]
    lines = [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in top]
    (OUT / "profile-betpath.txt").write_text(
        f"py-spy, one gunicorn worker, bets on the hot match (closed loop): {samples} busy samples;"
        " inclusive share per frame\n" + "\n".join(lines) + "\n"
    )
    raw.unlink()


def median_phase(runs: list[Phase]) -> Phase:
    values = {name: statistics.median(getattr(r, name) for r in runs) for name in asdict(runs[0]) if name != "phase"}
    values["failed"] = int(values["failed"])
    return Phase(phase=runs[0].phase, **values)


def markdown(results: list[Phase], ratios: dict[str, float], context: dict[str, Any]) -> str:
    lines = [
        f"{context['cores']} cores, load average before {context['load_before']} and after"
        f" {context['load_after']}; PostgreSQL, synchronous_commit {context['postgres_synchronous_commit']}; gunicorn"
        f" `{' '.join(GUNICORN)}`; {CONNECTIONS} connections closed loop; {SECONDS:g} s per phase;"
        f" median of {RUNS} runs. Commit alone: {context['commits_per_s']:.0f}/s on one connection,"
        f" p50 {context['commit_p50_ms']:.2f} ms.",
        "",
        "| phase | requests/s | ratio to insert | gunicorn CPU / request (ms) | PostgreSQL CPU / request (ms) |"
        " worker CPU (ms/s) | odds versions/s | p50 / p99 (ms) | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = ratios.get(r.phase)
        lines.append(
            f"| {r.phase} | {r.requests_per_s:.0f} | {'' if ratio is None else f'{ratio:.2f}'} |"
            f" {r.gunicorn_cpu_ms:.1f} | {r.postgres_cpu_ms:.2f} | {r.worker_cpu_ms_per_s:.0f} |"
            f" {r.odds_versions_per_s:.1f} | {r.p50_ms:.0f} / {r.p99_ms:.0f} | {r.failed} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} cores, load average {load_before}; phases {PHASES}, {SECONDS:g} s, {RUNS} runs", flush=True
    )
    by_phase: dict[str, list[Phase]] = {phase: [] for phase in PHASES}
    run_ratios: dict[str, list[float]] = {phase: [] for phase in PHASES if phase in ("hot", "spread")}
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        stack.env.update(
            DJANGO_SETTINGS_MODULE="bench.settings", THROTTLE_BETS="1000000/minute", JWT_ACCESS_SECONDS="86400"
        )
        servers = None
        try:
            stack.manage("migrate", "--noinput")
            setup = bench_data_create(stack, matches=MATCHES, bettors=BETTORS)
            ceiling = commit_ceiling(stack.database_url)
            print(f"commit alone: {ceiling}", flush=True)
            servers = Servers(stack)
            load = Load(servers.port, setup)
            # Warm-up, not measured: each worker's first requests import, connect and compile.
            for phase in ("insert", "hot"):
                asyncio.run(load.closed(phase, WARM_UP_SECONDS))
            for attempt in range(RUNS):
                of_run: dict[str, Phase] = {}
                for phase in PHASES:
                    profile = PROFILE and phase == "hot" and attempt == 0
                    of_run[phase] = run_phase(stack, servers, load, phase, profile=profile)
                    by_phase[phase].append(of_run[phase])
                    print(f"   run {attempt + 1}: {of_run[phase]}", flush=True)
                if "insert" in of_run and of_run["insert"].requests_per_s > 0:
                    for phase in run_ratios:
                        run_ratios[phase].append(of_run[phase].requests_per_s / of_run["insert"].requests_per_s)
            errors = [line for line in servers.gunicorn.lines if "Traceback" in line or " 500 " in line]
            if errors:
                print(f"   warning: {len(errors)} server errors, e.g. {errors[:3]}", flush=True)
        finally:
            if servers is not None:
                for process in (servers.worker, servers.daphne, servers.gunicorn):
                    process.stop()
            stack.close()
    results = [median_phase(by_phase[phase]) for phase in PHASES]
    ratios = {phase: statistics.median(values) for phase, values in run_ratios.items() if values}
    context = {
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "gunicorn": " ".join(GUNICORN),
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "runs": RUNS,
        "open_rate": OPEN_RATE,
        **ceiling,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    table = markdown(results, ratios, context)
    (OUT / "betpath.json").write_text(
        json.dumps({**context, "ratios": ratios, "results": [asdict(r) for r in results]}, indent=1) + "\n"
    )
    (OUT / "betpath.md").write_text(table)
    summarise_profile()
    print()
    print(table)
