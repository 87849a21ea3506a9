"""The system benchmark: bet placement through the production topology, pipeline against inline.

Topology: gunicorn (2 sync workers) serves the API, one Daphne serves /ws/odds/ to SOCKETS
sockets, one Celery worker recomputes, PostgreSQL (the machine's, with a database of the
bench's own, dropped afterwards; SQLite when none answers) and the Redis of `make bench`.

Configurations (the hooks of bench/hooks.py, servers restarted for each):
- `pipeline`: as built: the request commits and enqueues; the worker recomputes and publishes;
- `inline`: BENCH_RECOMPUTE_INLINE: the request recomputes under the match lock and publishes,
  as the odds seed's post_save signal did;
- each again with BENCH_RECOMPUTE_EXTRA_DELAY_MS=20: a recompute 20 ms costlier.

For each configuration, spread (10 matches, or one hot match) and rate, an open-loop load
generator places bets at the rate for SECONDS (latency counted from each bet's scheduled
time, so a stalled server cannot hide its queue) and the sockets report, for every (bet,
socket), the delay from the bet's commit (its row's `created_at`) to the first frame that
counts it. Every figure is the median of RUNS runs. Writes docs/bench/system.json, .md and
.png; prints the core count and the load average.

Scale (environment): BENCH_SYSTEM_SECONDS (10), BENCH_SYSTEM_RATES ("50,100,200"),
BENCH_SYSTEM_SOCKETS (1000), BENCH_SYSTEM_RUNS (3), BENCH_SYSTEM_CONFIGS (all four),
BENCH_SYSTEM_SPREADS ("spread,hot"), BENCH_SYSTEM_PROFILE=1 (py-spy on a gunicorn worker
during the pipeline's first run at 100 bets/s, to docs/bench/profile-request.txt).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.bench_delivery import percentile, wait_for_port
from bench.hooks import EXTRA_DELAY_MS, INLINE
from tests.integration.harness import BIN, ROOT, ManagedProcess, Stack, new_bet_key
from workers.embedded_redis import free_port

SECONDS = float(os.environ.get("BENCH_SYSTEM_SECONDS", "10"))
RATES = [float(r) for r in os.environ.get("BENCH_SYSTEM_RATES", "50,100,200").split(",")]
SOCKETS = int(os.environ.get("BENCH_SYSTEM_SOCKETS", "1000"))
RUNS = int(os.environ.get("BENCH_SYSTEM_RUNS", "3"))
SPREADS = os.environ.get("BENCH_SYSTEM_SPREADS", "spread,hot").split(",")
PROFILE = os.environ.get("BENCH_SYSTEM_PROFILE") == "1"
# The hooks of bench/hooks.py, applied in every server through bench.settings.
CONFIGS = {
    "pipeline": {INLINE: "0", EXTRA_DELAY_MS: "0"},
    "pipeline+20ms": {INLINE: "0", EXTRA_DELAY_MS: "20"},
    "inline": {INLINE: "1", EXTRA_DELAY_MS: "0"},
    "inline+20ms": {INLINE: "1", EXTRA_DELAY_MS: "20"},
}
WANTED = os.environ.get("BENCH_SYSTEM_CONFIGS", ",".join(CONFIGS)).split(",")
MATCHES, BETTORS = 10, 10
CLIENT_PROCESSES = 2
WARM_UP_RATE, WARM_UP_SECONDS = 20.0, 2.0
REQUEST_TIMEOUT = 10.0
OUT = ROOT / "docs" / "bench"

SETUP = """
import json
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from betting.matches import match_create
from betting.wallets import wallet_open
matches = [match_create(home_team=f"Bench {n}", away_team="Load", kickoff=timezone.now()
           + timezone.timedelta(days=30), opening={"home": Decimal("2.10"), "draw": Decimal("3.40"),
           "away": Decimal("3.50")}).pk for n in range(%d)]
tokens = []
for n in range(%d):
    user, _ = get_user_model().objects.get_or_create(username=f"bettor{n}@bench.local")
    wallet_open(user=user, credit=Decimal("100000000.00"))
    tokens.append(str(AccessToken.for_user(user)))
print("SETUP " + json.dumps({"matches": matches, "tokens": tokens}))
"""


def bench_data_create(stack: Stack, *, matches: int, bettors: int) -> dict[str, Any]:
    """Open `matches` matches and `bettors` funded bettors in the stack's database (migrated);
    their match ids and access tokens, `{"matches": [...], "tokens": [...]}`."""
    output = stack.manage("shell", "-c", SETUP % (matches, bettors))
    return json.loads(next(x for x in output.splitlines() if x.startswith("SETUP ")).removeprefix("SETUP "))


@dataclass
class Result:
    config: str
    spread: str
    rate: float
    achieved: float
    request_p50_ms: float
    request_p99_ms: float
    server_p50_ms: float
    server_p99_ms: float
    failed: int
    frame_p50_ms: float
    frame_p99_ms: float
    frames_missing: int


class System:
    """gunicorn, Daphne and a worker on a Stack, started with one configuration's settings."""

    def __init__(self, stack: Stack, config: str) -> None:
        self.stack = stack
        self.processes: list[ManagedProcess] = []
        stack.env.update(CONFIGS[config], DJANGO_SETTINGS_MODULE="bench.settings")
        # A thousand sockets from one address: the per-IP cap would close all but the first 200.
        stack.env["REALTIME_MAX_SOCKETS_PER_IP"] = "0"
        self.http_port = free_port()
        # Two sync workers; one access-log line per request with its time inside gunicorn
        # (µs): the server's share of the latency, apart from the wait for a free worker.
        options = ["-w", "2", "--access-logfile", "-", "--access-logformat", "BET %(U)s %(s)s %(D)s"]
        gunicorn = stack._spawn(
            f"gunicorn:{self.http_port}",
            [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{self.http_port}", *options],
        )
        self.gunicorn = gunicorn
        self.processes.append(gunicorn)
        wait_for_port(self.http_port)
        self.gunicorn_workers = [int(p) for p in _children(gunicorn.popen.pid)]
        daphne, self.ws_port = stack.start_web()
        self.processes += [daphne, stack.start_worker()]

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def _children(pid: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(children) >= 2:
            return children
        time.sleep(0.1)
    return []


async def place_bets(
    port: int, tokens: list[str], matches: list[int], rate: float, seconds: float = SECONDS
) -> tuple[list[float], int]:
    """Open loop: bet i leaves at start + i / rate whatever the earlier ones are doing."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=REQUEST_TIMEOUT) as client:
        latencies: list[float] = []
        failed = 0

        async def one(number: int, scheduled: float) -> None:
            nonlocal failed
            body = {
                "match": matches[number % len(matches)],
                "selection": ("home", "draw", "away")[number % 7 % 3],
                "stake": "2.00",
                "accept_odds_change": "any",
            }
            # gunicorn's sync worker answers with Connection: close, then lingers (up to 2 s,
            # gunicorn >= 23) until the client closes too; a load generator that keeps the socket
            # in its pool holds the worker. nginx closes at once; so does this, when asked to.
            headers = {
                "Authorization": f"Bearer {tokens[number % len(tokens)]}",
                "Connection": "close",
                **new_bet_key(),
            }
            try:
                reply = await client.post("/api/bets/", json=body, headers=headers)
                if reply.status_code != 201:
                    failed += 1
                    return
            except httpx.HTTPError:
                failed += 1
                return
            latencies.append(time.monotonic() - scheduled)

        started = time.monotonic()
        tasks = []
        for number in range(int(rate * seconds)):
            scheduled = started + number / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(one(number, scheduled)))
        await asyncio.gather(*tasks)
    return latencies, failed


class Sockets:
    def __init__(self, port: int, count: int) -> None:
        shares = [count // CLIENT_PROCESSES + (i < count % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
        self.clients: list[subprocess.Popen[Any]] = [
            subprocess.Popen(
                [str(BIN / "python"), "-m", "bench.system_client", str(port), str(n)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in shares
            if n
        ]
        ready: list[str] = [c.stdout.readline() for c in self.clients]  # "ready <connected> <failed>"
        self.connected = sum(int(line.split()[1]) for line in ready)

    def command(self, line: str) -> list[dict[str, Any]]:
        for client in self.clients:
            client.stdin.write(line + "\n")
            client.stdin.flush()
        if not line.startswith("report"):
            return []
        return [json.loads(client.stdout.readline()) for client in self.clients]

    def close(self) -> None:
        for client in self.clients:
            client.kill()
            client.wait(timeout=10)


def commits_since(stack: Stack, bet_id: int) -> tuple[dict[int, dict[int, float]], int]:
    """{match: {sequence: commit epoch}} of the bets after `bet_id`, and the newest bet id."""
    if stack.database_url.startswith("postgres"):
        epoch = "EXTRACT(EPOCH FROM created_at)"
    else:
        epoch = "(julianday(created_at) - 2440587.5) * 86400.0"
    rows = stack.query(f"SELECT id, match_id, sequence, {epoch} FROM betting_bet WHERE id > {bet_id}")
    commits: dict[int, dict[int, float]] = {}
    for _, match, sequence, at in rows:
        commits.setdefault(match, {})[sequence] = float(at)
    return commits, max((row[0] for row in rows), default=bet_id)


def profile(pid: int, seconds: float) -> subprocess.Popen[bytes]:
    OUT.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "py-spy"), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "--idle"]
    return subprocess.Popen(
        [*command, "--format", "raw", "-o", str(OUT / "profile-request.raw"), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise_profile() -> None:
    """Inclusive samples per function of the project's own code, from py-spy's collapsed stacks."""
    raw = OUT / "profile-request.raw"
    if not raw.exists():
        return
    totals: dict[str, int] = {}
    all_samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        all_samples += int(count)
        for frame in set(stack.split(";")):
            if any(part in frame for part in ("betting/", "accounts/", "config/", "realtime/", "workers/", "django/")):
                totals[frame] = totals.get(frame, 0) + int(count)
    lines = [f"{100 * n / all_samples:5.1f}%  {frame}" for frame, n in sorted(totals.items(), key=lambda x: -x[1])[:40]]
    (OUT / "profile-request.txt").write_text(
        f"py-spy, one gunicorn worker, pipeline at 100 bets/s: {all_samples} samples; inclusive share per frame\n"
        + "\n".join(lines)
        + "\n"
    )
    raw.unlink()
    print("\n".join(lines[:15]))


def run_config(stack: Stack, config: str, setup: dict[str, Any], results: list[Result]) -> None:
    """Every run of one configuration; a run's commits are the bets after the newest before it."""
    system = System(stack, config)
    sockets = Sockets(system.ws_port, SOCKETS)
    print(f"-- {config}: {sockets.connected} sockets open", flush=True)
    try:
        # Warm-up, not measured: each gunicorn worker's first requests load the URLconf and
        # open its database and broker connections (the first enqueue alone takes 20-40 ms).
        asyncio.run(place_bets(system.http_port, setup["tokens"], setup["matches"], WARM_UP_RATE, WARM_UP_SECONDS))
        time.sleep(1.0)
        _, last_bet = commits_since(stack, 0)
        for spread in SPREADS:
            matches = setup["matches"] if spread == "spread" else setup["matches"][:1]
            for rate in RATES:
                runs = []
                for attempt in range(RUNS):
                    sockets.command("start")
                    profiler = None
                    if PROFILE and config == "pipeline" and rate == 100 and attempt == 0 and spread == SPREADS[0]:
                        profiler = profile(system.gunicorn_workers[0], SECONDS)
                    logged = len(system.gunicorn.lines)
                    latencies, failed = asyncio.run(place_bets(system.http_port, setup["tokens"], matches, rate))
                    served = [
                        int(line.split()[3]) / 1e6
                        for line in system.gunicorn.lines[logged:]
                        if line.startswith("BET /api/bets/ 201")
                    ]
                    time.sleep(2.0)  # the last frames reach the sockets
                    if profiler is not None:
                        profiler.wait(timeout=60)
                    commits, last_bet = commits_since(stack, last_bet)
                    reports = sockets.command("report " + json.dumps(commits))
                    frames = [x for r in reports for x in r["latencies"]]
                    silent = sum(r["silent_sockets"] for r in reports)
                    if silent:
                        print(f"   warning: {silent} sockets received no odds frame in this run", flush=True)
                    runs.append(
                        Result(
                            config=config,
                            spread=spread,
                            rate=rate,
                            achieved=len(latencies) / SECONDS,
                            request_p50_ms=percentile(latencies, 0.5) * 1000,
                            request_p99_ms=percentile(latencies, 0.99) * 1000,
                            server_p50_ms=percentile(served, 0.5) * 1000,
                            server_p99_ms=percentile(served, 0.99) * 1000,
                            failed=failed,
                            frame_p50_ms=percentile(frames, 0.5) * 1000,
                            frame_p99_ms=percentile(frames, 0.99) * 1000,
                            frames_missing=sum(r["missing"] for r in reports),
                        )
                    )
                    print(f"   {spread} {rate:g}/s run {attempt + 1}: {runs[-1]}", flush=True)
                results.append(median_of(runs))
    finally:
        sockets.close()
        system.stop()


def median_of(runs: list[Result]) -> Result:
    first = runs[0]
    return Result(
        config=first.config,
        spread=first.spread,
        rate=first.rate,
        achieved=statistics.median(r.achieved for r in runs),
        request_p50_ms=statistics.median(r.request_p50_ms for r in runs),
        request_p99_ms=statistics.median(r.request_p99_ms for r in runs),
        server_p50_ms=statistics.median(r.server_p50_ms for r in runs),
        server_p99_ms=statistics.median(r.server_p99_ms for r in runs),
        failed=int(statistics.median(r.failed for r in runs)),
        frame_p50_ms=statistics.median(r.frame_p50_ms for r in runs),
        frame_p99_ms=statistics.median(r.frame_p99_ms for r in runs),
        frames_missing=int(statistics.median(r.frames_missing for r in runs)),
    )


def markdown(results: list[Result], context: dict[str, Any]) -> str:
    lines = [
        f"{context['cores']} cores, load average before {context['load_before']} and after {context['load_after']}; "
        f"{context['database']}; {context['sockets']} sockets; {context['seconds']:g} s per run, "
        f"median of {context['runs']} runs.",
        "",
        "| configuration | matches | bets/s asked | bets/s done | request p50 / p99 (ms) "
        "| in gunicorn p50 / p99 (ms) | failed | commit → frame p50 / p99 (ms) | (bet, socket) pairs with no frame |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.config} | {'10' if r.spread == 'spread' else '1 (hot)'} | {r.rate:g} | {r.achieved:.0f} "
            f"| {r.request_p50_ms:.0f} / {r.request_p99_ms:.0f} | {r.server_p50_ms:.0f} / {r.server_p99_ms:.0f} "
            f"| {r.failed} "
            f"| {r.frame_p50_ms:.0f} / {r.frame_p99_ms:.0f} | {r.frames_missing} |"
        )
    return "\n".join(lines) + "\n"


def chart(results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(SPREADS), figsize=(6 * len(SPREADS), 4.5), squeeze=False)
    for axis, spread in zip(axes[0], SPREADS, strict=True):
        for config in WANTED:
            points = [r for r in results if r.config == config and r.spread == spread]
            axis.plot([r.rate for r in points], [r.request_p99_ms for r in points], marker="o", label=config)
        axis.axhline(50, color="grey", linestyle=":", label="goal: 50 ms at 100 bets/s")
        axis.set_title("10 matches" if spread == "spread" else "one hot match")
        axis.set_xlabel("bets per second")
        axis.set_ylabel("request p99 (ms)")
        axis.set_yscale("log")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(OUT / "system.png", dpi=100)


def main() -> None:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        fallback = "postgres://postgres@127.0.0.1:5432/postgres"
        probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True, check=False)
        if probe.returncode == 0:
            os.environ["DATABASE_URL"] = fallback
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} cores, load average {load_before}; rates {RATES}, {SECONDS:g} s, {SOCKETS} sockets,"
        f" {RUNS} runs, {WANTED}",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        stack.env.update(THROTTLE_BETS="1000000/minute", JWT_ACCESS_SECONDS="86400")
        try:
            stack.manage("migrate", "--noinput")
            setup = bench_data_create(stack, matches=MATCHES, bettors=BETTORS)
            for config in WANTED:
                run_config(stack, config, setup, results)
            kind = "PostgreSQL" if stack.database_url.startswith("postgres") else "SQLite"
        finally:
            stack.close()
    context = {
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "database": kind,
        "sockets": SOCKETS,
        "seconds": SECONDS,
        "runs": RUNS,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    table = markdown(results, context)
    (OUT / "system.json").write_text(json.dumps({**context, "results": [asdict(r) for r in results]}, indent=1) + "\n")
    (OUT / "system.md").write_text(table)
    chart(results)
    summarise_profile()
    print()
    print(table)
