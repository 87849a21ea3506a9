"""A mass disconnect of signed-in sockets: how long the web process's event loop stalls, and how
soon presence is right again.

One Daphne (the project's application, with a probe of its event loop: `bench.disconnect_asgi`),
DISCONNECT_USERS users (default 5,000) and DISCONNECT_SOCKETS sockets on `/ws/odds/?token=...`
(default 10,000: two per user), from DISCONNECT_CLIENT_PROCESSES load-generator processes
(`bench.disconnect_client`). Every signed-in socket is in `odds_all` and its user's `user_<id>`
group, so the hub holds one fast-path group per user. Once every socket is open and presence
counts them all, every client process resets all its sockets at once, and the run reports:

- the longest stall of Daphne's event loop from the drop until the process is idle again (a
  5 ms ticker on its loop; goal under 100 ms), beside the longest stall of an idle second before;
- the time from the drop until presence (`realtime.presence.counts()`, read from Redis as the ops
  page reads it) shows no odds socket;
- Daphne's CPU time spent on the drop.

DISCONNECT_LOOP_MAX_EVENTS (default "16") lists the event loops compared in the same run: 0 is
asyncio's own loop (every ready socket handled in one turn), a number the bounded loop of
`realtime.eventloop` (REALTIME_LOOP_MAX_EVENTS). DISCONNECT_WALK_SLICE_MS (default "0,5") lists
the slices of the walks over every connection (REALTIME_WALK_SLICE_MS: 0 is Daphne's own
walks and the heartbeat in slices of 1,000 sockets). Each configuration (every loop with every
slice) gets a fresh Daphne and the same users; DISCONNECT_RUNS (default 1) repeats them all,
alternating, and the table gives each configuration's medians. After each drop the run prints
what the probe saw take long on the loop (callbacks over 20 ms, garbage collections over 5 ms,
Daphne's walks); DISCONNECT_PROFILE_SECONDS runs py-spy on Daphne from just before the drop.

Bounded: a few minutes a run for the default sizes on a quiet 2-core machine, 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import redis
from django.test.utils import override_settings

from bench.bench_delivery import cpu_seconds, raise_open_files_limit, spawn_module, split
from realtime.presence import counts
from tests.integration.harness import BIN, ROOT, Stack

SOCKETS = int(os.environ.get("DISCONNECT_SOCKETS", "10000"))
USERS = int(os.environ.get("DISCONNECT_USERS", "5000"))
CLIENT_PROCESSES = int(os.environ.get("DISCONNECT_CLIENT_PROCESSES", "4"))
LOOP_MAX_EVENTS = [int(n) for n in os.environ.get("DISCONNECT_LOOP_MAX_EVENTS", "16").split(",")]
WALK_SLICE_MS = [float(n) for n in os.environ.get("DISCONNECT_WALK_SLICE_MS", "0,5").split(",")]
CONFIGURATIONS = [(loop, walk) for loop in LOOP_MAX_EVENTS for walk in WALK_SLICE_MS]
RUNS = int(os.environ.get("DISCONNECT_RUNS", "1"))
# py-spy on Daphne from just before the drop, for this many seconds (0: not), raw stacks in PROFILE_DIR.
PROFILE_SECONDS = int(os.environ.get("DISCONNECT_PROFILE_SECONDS", "0"))
PROFILE_DIR = os.environ.get("DISCONNECT_PROFILE_DIR", tempfile.gettempdir())
STALL_GOAL_MS = 100.0
PRESENCE_TIMEOUT_SECONDS = 120.0
IDLE_SECONDS = 1.0  # the drop is over once a second passes with no stall over the goal
# Above the sockets, so a web process that held a Redis connection per socket would still run
# and show its cost rather than fail at Redis's default limit of 10,000.
MAX_REDIS_CLIENTS = 19_000


class Presence:
    def __init__(self, stack: Stack) -> None:
        self.prefix = stack.env["REALTIME_PREFIX"]
        self.client = redis.Redis.from_url(stack.redis_url)

    def odds(self) -> int:
        with override_settings(REALTIME_PREFIX=self.prefix):
            return counts(self.client).get("odds", 0)

    def wait_for(self, wanted: int, timeout: float) -> float:
        """Seconds until presence counts `wanted` odds sockets."""
        started = time.monotonic()
        while self.odds() != wanted:
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"presence still counts {self.odds()} odds sockets, not {wanted}")
            time.sleep(0.01)
        return time.monotonic() - started

    def settled(self, wanted: int, quiet: float = 10.0, timeout: float = PRESENCE_TIMEOUT_SECONDS) -> int:
        """The count once it is `wanted`, or has not changed for `quiet` seconds: on a machine
        so loaded that handshakes time out, a few sockets the server opened after their
        client gave up on them may still be counted (reported as such)."""
        started = time.monotonic()
        last, since = self.odds(), time.monotonic()
        while last != wanted and time.monotonic() - since < quiet:
            if time.monotonic() - started > timeout:
                break
            time.sleep(0.05)
            now = self.odds()
            if now != last:
                last, since = now, time.monotonic()
        return last


def longest_stall_ms(port: int) -> float:
    """The longest stall of Daphne's loop since the previous call."""
    reply = httpx.get(f"http://127.0.0.1:{port}/bench/loop-stalls", timeout=60)
    return float(reply.json()["longest_stall_ms"])


def slow_work(port: int) -> dict[str, object]:
    """What made the loop's stalls since the previous call (`bench.disconnect_asgi`)."""
    return dict(httpx.get(f"http://127.0.0.1:{port}/bench/loop-slow", timeout=60).json())


def tell(processes: list[subprocess.Popen[str]], command: str) -> list[str]:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(command + "\n")
        process.stdin.flush()
    return [process.stdout.readline().strip() for process in processes if process.stdout is not None]


def signed_in_tokens(stack: Stack, workdir: Path) -> list[str]:
    tokens_file = workdir / "tokens"
    subprocess.run(
        [str(BIN / "python"), "-m", "bench.disconnect_users", str(USERS), str(tokens_file)],
        cwd=ROOT,
        env=stack.env,
        check=True,
        timeout=300,
    )
    return tokens_file.read_text().split()


def run(stack: Stack, workdir: Path, tokens: list[str], configuration: tuple[int, float]) -> dict[str, float]:
    max_events, walk_slice_ms = configuration
    paths = [f"/ws/odds/?token={tokens[n % len(tokens)]}" for n in range(SOCKETS)]
    stack.env["REALTIME_LOOP_MAX_EVENTS"] = str(max_events)
    stack.env["REALTIME_WALK_SLICE_MS"] = str(walk_slice_ms)
    web, port = stack.start_web(application="bench.disconnect_asgi:application")
    presence = Presence(stack)
    clients: list[subprocess.Popen[str]] = []
    try:
        started = time.monotonic()
        offset = 0
        for share in split(SOCKETS, CLIENT_PROCESSES):
            (workdir / f"paths-{offset}").write_text("\n".join(paths[offset : offset + share]))
            clients.append(
                spawn_module(stack.env, "bench.disconnect_client", str(port), str(workdir / f"paths-{offset}"))
            )
            offset += share
        ready = [line.split() for line in (client.stdout.readline() for client in clients if client.stdout)]
        connected = sum(int(fields[1]) for fields in ready)
        failed = sum(int(fields[2]) for fields in ready)
        connect_seconds = time.monotonic() - started
        statuses = [json.loads(line) for line in tell(clients, "status")]
        still_open = sum(status["open"] for status in statuses)
        counted = presence.settled(still_open)
        unheld = counted - still_open
        print(
            f"  {connected:,} sockets opened ({failed} failed) in {connect_seconds:.1f} s for {len(tokens):,} users; "
            f"{still_open:,} still open, closed by the server: {[status['closed'] for status in statuses]}; "
            f"presence counts {counted:,} ({unheld:+,} that no client holds)",
            flush=True,
        )

        longest_stall_ms(port)
        slow_work(port)  # what the connections took: not the idle second's
        time.sleep(IDLE_SECONDS)
        idle_stall = longest_stall_ms(port)
        idle_work = slow_work(port)
        profiler = None
        if PROFILE_SECONDS:
            profiler = subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "-p",
                    str(web.popen.pid),
                    "-r",
                    "250",
                    "-d",
                    str(PROFILE_SECONDS),
                    "-f",
                    "raw",
                    "-o",
                    str(Path(PROFILE_DIR) / f"drop-{max_events}-{walk_slice_ms:g}-{time.time_ns()}.txt"),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)

        cpu_before = cpu_seconds(web.popen.pid)
        dropped_at = time.monotonic()
        dropped = sum(int(line.split()[1]) for line in tell(clients, "drop"))
        presence.wait_for(max(0, unheld), PRESENCE_TIMEOUT_SECONDS)
        presence_seconds = time.monotonic() - dropped_at
        # The drop is over once the loop has gone a whole second without a stall over the goal.
        stall = longest_stall_ms(port)
        while True:
            time.sleep(IDLE_SECONDS)
            window = longest_stall_ms(port)
            if window < STALL_GOAL_MS:
                break
            stall = max(stall, window)
        drop_cpu = cpu_seconds(web.popen.pid) - cpu_before
        drop_work = slow_work(port)
        print(f"  idle second: {json.dumps(idle_work)}", flush=True)
        print(f"  drop: {json.dumps(drop_work)}", flush=True)
        if profiler is not None:
            profiler.wait(timeout=PROFILE_SECONDS + 60)
        assert web.popen.poll() is None, "\n".join(web.lines[-40:])
        return {
            "sockets": still_open,
            "users": len(set(tokens)),
            "dropped": dropped,
            "idle_stall_ms": idle_stall,
            "drop_stall_ms": stall,
            "presence_seconds": presence_seconds,
            "drop_cpu_seconds": drop_cpu,
        }
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
                client.wait(timeout=10)
        web.stop()


def configuration_name(configuration: tuple[int, float]) -> str:
    max_events, walk_slice_ms = configuration
    loop = "asyncio's loop" if max_events == 0 else f"bounded loop, {max_events} events a turn"
    walks = "Daphne's walks" if walk_slice_ms <= 0 else f"walks in {walk_slice_ms:g} ms slices"
    return f"{loop}, {walks}"


def main() -> None:
    raise_open_files_limit()
    print(
        f"{SOCKETS:,} signed-in sockets of {USERS:,} users, {CLIENT_PROCESSES} client processes, "
        f"loops {LOOP_MAX_EVENTS}, walk slices (ms) {WALK_SLICE_MS}, {RUNS} run(s) each; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: dict[tuple[int, float], list[dict[str, float]]] = {c: [] for c in CONFIGURATIONS}
    with tempfile.TemporaryDirectory() as workdir:
        # A Redis of its own: ten thousand sockets must not take connections from anyone else's.
        stack = Stack(Path(workdir), dedicated_redis=True)
        stack.env.update(
            {
                "REALTIME_MAX_SOCKETS_PER_IP": "0",  # every socket comes from 127.0.0.1
                "JWT_SIGNING_KEY": f"bench-disconnect-{os.getpid()}-{time.time_ns()}",
                "JWT_ACCESS_SECONDS": "3600",  # no socket reaches its token's expiry during the run
            }
        )
        try:
            redis.Redis.from_url(stack.redis_url).config_set("maxclients", MAX_REDIS_CLIENTS)
            stack.manage("migrate", "--noinput")
            stack.manage("load_demo_data")
            tokens = signed_in_tokens(stack, Path(workdir))
            for attempt in range(RUNS):
                for configuration in CONFIGURATIONS:
                    result = run(stack, Path(workdir), tokens, configuration)
                    results[configuration].append(result)
                    print(
                        f"  run {attempt + 1}, {configuration_name(configuration)}: "
                        f"stall {result['drop_stall_ms']:.0f} ms, "
                        f"presence {result['presence_seconds']:.2f} s, CPU {result['drop_cpu_seconds']:.2f} s",
                        flush=True,
                    )
        finally:
            stack.close()
    print()
    print(
        "| configuration | sockets | users | longest loop stall, idle / during the drop "
        "| presence right after | server CPU for the drop |"
    )
    print("|---|---|---|---|---|---|")
    for configuration, runs in results.items():
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"| {configuration_name(configuration)} | {median['sockets']:,.0f} | {median['users']:,.0f} "
            f"| {median['idle_stall_ms']:.0f} ms / {median['drop_stall_ms']:.0f} ms "
            f"| {median['presence_seconds']:.2f} s | {median['drop_cpu_seconds']:.2f} s |"
        )
        verdict = "met" if median["drop_stall_ms"] < STALL_GOAL_MS else "missed"
        print(f"goal ({configuration_name(configuration)}): the longest stall under {STALL_GOAL_MS:.0f} ms: {verdict}")
    print(f"(medians of {RUNS} run(s) each)")
