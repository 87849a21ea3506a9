"""WebSocket delivery: Oddstream's channel layer (the hub) against the seeds' per-consumer
`group_send` on channels_redis' `RedisChannelLayer` and on its `RedisPubSubChannelLayer`, side by side.

For each design and each socket count (100 / 1,000 / 5,000 on one Daphne process):
start the server fresh, connect the sockets from separate load-generator processes
(`bench.delivery_client`), measure the server's resident memory per idle socket, publish
20 updates a second over 10 matches for 10 s from a separate publisher process
(`bench.delivery_publisher`), give the server 3 s to finish, then collect:

- deliveries a second and per server CPU-second (CPU from /proc of the Daphne pid);
- latency publish → client receive, p50 / p99 (every frame carries its publish time);
- frames not delivered (for the hub: superseded by a newer version of the same match, by
  design; for the baseline: dropped by channels-redis over capacity), and sockets that did
  not converge to the latest version of every match, with the time the slowest one took;
- the load generator's own CPU and worst event-loop lag, to show it was not the bottleneck.

Design `hub2` (only when DELIVERY_DESIGNS names it): two hub Daphne processes sharing
DELIVERY_TWO_WEB_SOCKETS sockets (default 10,000), half on each, server CPU and memory summed
over both; it also checks that presence (`realtime.presence.counts()`) totals the odds sockets
of both processes.

Bounded: at most a few minutes in all, 127.0.0.1 only. Settings: DELIVERY_SOCKETS
(e.g. "100,1000"), DELIVERY_SECONDS, DELIVERY_CLIENT_PROCESSES, DELIVERY_DESIGNS
(`hub,baseline,pubsub`, and `hub2`), DELIVERY_TWO_WEB_SOCKETS.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
from django.test.utils import override_settings

from realtime.presence import counts
from tests.integration.harness import BIN, ROOT, ManagedProcess, Stack
from workers.embedded_redis import free_port

RATE = 20.0
MATCHES = 10
SECONDS = float(os.environ.get("DELIVERY_SECONDS", "10"))
SOCKETS = [int(n) for n in os.environ.get("DELIVERY_SOCKETS", "100,1000,5000").split(",")]
DESIGNS = os.environ.get("DELIVERY_DESIGNS", "hub,baseline,pubsub").split(",")
TWO_WEB_SOCKETS = int(os.environ.get("DELIVERY_TWO_WEB_SOCKETS", "10000"))
CLIENT_PROCESSES = int(os.environ.get("DELIVERY_CLIENT_PROCESSES", "4"))
DRAIN_SECONDS = 3.0
# A path: py-spy records a flame graph (SVG) of the hub's Daphne process during the publishing
# phase of the largest socket count (the per-delivery cost breakdown in docs/realtime-delivery.md).
PROFILE = os.environ.get("DELIVERY_PROFILE", "")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Nothing listens on {port}")


def spawn_module(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`python -m <args>` in the project, talking over its stdin and stdout (a client, a publisher)."""
    return subprocess.Popen(
        [str(BIN / "python"), "-m", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@dataclass
class Result:
    design: str
    sockets: int
    connected: int
    deliveries_per_s: float
    per_cpu_s: float
    server_cpu: float
    p50_ms: float
    p99_ms: float
    missing_pct: float
    converged: int
    converge_max_ms: float
    kib_per_socket: float
    client_cpu: float
    client_lag_ms: float
    publish_ms: float
    presence: str = "-"  # odds sockets counted by presence / connected (hub designs)


class Scenario:
    def __init__(self, stack: Stack, design: str, sockets: int) -> None:
        self.stack = stack
        self.design = design
        self.sockets = sockets
        self.env = {
            **stack.env,
            "BASELINE_PREFIX": f"bench-baseline-{uuid.uuid4().hex[:8]}:",
            "BASELINE_DESIGN": design,
        }
        self.processes: list[subprocess.Popen[str]] = []

    def start_server(self) -> tuple[ManagedProcess, int]:
        if self.design in ("hub", "hub2"):
            return self.stack.start_web()
        port = free_port()
        self.stack.env["BASELINE_PREFIX"] = self.env["BASELINE_PREFIX"]
        self.stack.env["BASELINE_DESIGN"] = self.design
        process = self.stack._spawn(
            f"baseline:{port}",
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "bench.baseline_asgi:application"],
        )
        wait_for_port(port)
        return process, port

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        process = spawn_module(self.env, *args)
        self.processes.append(process)
        return process

    def run(self) -> Result:
        servers = [self.start_server() for _ in range(2 if self.design == "hub2" else 1)]
        try:
            return self._measure([server.popen.pid for server, _ in servers], [port for _, port in servers])
        finally:
            for process in self.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
            for server, _ in servers:
                server.stop()

    def presence(self, connected: int) -> str:
        """Odds sockets as presence totals them over every web process, against those connected."""
        with override_settings(REALTIME_PREFIX=self.stack.env["REALTIME_PREFIX"]):
            counted = counts(redis.Redis.from_url(self.stack.redis_url)).get("odds", 0)
        return f"{counted}/{connected}"

    def _measure(self, pids: list[int], ports: list[int]) -> Result:
        # One socket first: the hub starts on the first connection; its cost is not per socket.
        for port in ports:
            warm = self.spawn("bench.delivery_client", str(port), "/ws/odds/", "1")
            warm.stdout.readline()
            warm.stdin.write("quit\n")
            warm.stdin.flush()
            warm.wait(timeout=30)
        time.sleep(1.0)
        rss_before = sum(rss_bytes(pid) for pid in pids)

        # The sockets split evenly over the servers, each server's over its client processes.
        per_server = max(1, CLIENT_PROCESSES // len(ports))
        clients = [
            self.spawn("bench.delivery_client", str(port), "/ws/odds/", str(n))
            for port, server_share in zip(ports, split(self.sockets, len(ports)), strict=True)
            for n in split(server_share, per_server)
            if n
        ]
        connected = 0
        for client in clients:
            ready = client.stdout.readline().split()
            connected += int(ready[1])
        time.sleep(2.0)
        rss_idle = sum(rss_bytes(pid) for pid in pids)
        presence = self.presence(connected) if self.design in ("hub", "hub2") else "-"
        if presence != "-":
            print(f"  {self.design} {self.sockets}: presence (odds) counted/expected {presence}", flush=True)

        for client in clients:
            client.stdin.write("start\n")
            client.stdin.flush()
        profiler = None
        pid = pids[0]
        if PROFILE and self.design == "hub" and self.sockets == max(SOCKETS):
            profiler = subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--output",
                    PROFILE,
                    "--format",
                    "flamegraph",
                    "--duration",
                    str(int(SECONDS)),
                    "--rate",
                    "250",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        layer = self.design.removesuffix("2")  # hub2 publishes as the hub does
        publisher = self.spawn("bench.delivery_publisher", layer, str(RATE), str(SECONDS), str(MATCHES))
        published = json.loads(publisher.stdout.readline())
        time.sleep(DRAIN_SECONDS)
        elapsed = time.monotonic() - started
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        if profiler is not None:
            profiler.wait(timeout=60)

        final = json.dumps({"versions": published["versions"], "sent": published["sent"]})
        reports = []
        for client in clients:
            client.stdin.write(f"report {final}\n")
            client.stdin.flush()
            reports.append(json.loads(client.stdout.readline()))

        received = sum(r["received"] for r in reports)
        latencies = [x for r in reports for x in r["latencies"]]
        delays = [x for r in reports for x in r["convergence_delays"]]
        expected = published["published"] * connected
        converged = sum(r["converged"] for r in reports)
        return Result(
            design=self.design,
            sockets=self.sockets,
            connected=connected,
            deliveries_per_s=received / elapsed,
            per_cpu_s=received / server_cpu if server_cpu else float("nan"),
            server_cpu=server_cpu / elapsed,
            p50_ms=percentile(latencies, 0.5) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000,
            missing_pct=100.0 * (expected - received) / expected if expected else float("nan"),
            converged=converged,
            converge_max_ms=(max(delays) * 1000) if delays and converged == connected else float("inf"),
            kib_per_socket=(rss_idle - rss_before) / max(1, connected) / 1024,
            client_cpu=sum(r["cpu_seconds"] for r in reports) / elapsed,
            client_lag_ms=max(r["max_loop_lag"] for r in reports) * 1000,
            publish_ms=published["publish_ms_p50"],
            presence=presence,
        )


def print_table(results: list[Result]) -> None:
    header = (
        "| design | sockets | connected | deliveries/s | deliveries per server CPU-s | server CPU (cores) "
        "| latency p50 / p99 (ms) | not delivered | converged (slowest) | RSS per idle socket "
        "| load gen CPU (cores) / worst loop lag | publish call p50 | presence (odds) |"
    )
    print(header)
    print("|" + "|".join("---" for _ in range(13)) + "|")
    for r in results:
        converged = f"{r.converged}/{r.connected}" + (
            f" ({r.converge_max_ms:.0f} ms)" if r.converge_max_ms != float("inf") else ""
        )
        print(
            f"| {r.design} | {r.sockets:,} | {r.connected:,} | {r.deliveries_per_s:,.0f} | {r.per_cpu_s:,.0f} "
            f"| {r.server_cpu:.2f} | {r.p50_ms:,.0f} / {r.p99_ms:,.0f} | {r.missing_pct:.1f}% | {converged} "
            f"| {r.kib_per_socket:.1f} KiB | {r.client_cpu:.2f} / {r.client_lag_ms:.0f} ms | {r.publish_ms:.2f} ms "
            f"| {r.presence} |"
        )
    by_key = {(r.design, r.sockets): r for r in results}
    for sockets in SOCKETS:
        hub = by_key.get(("hub", sockets))
        for other in ("baseline", "pubsub"):
            base = by_key.get((other, sockets))
            if hub and base and base.per_cpu_s:
                print(
                    f"{sockets:,} sockets: the hub delivers {hub.per_cpu_s / base.per_cpu_s:.1f}x "
                    f"{other} per server CPU-s"
                )


def raise_open_files_limit() -> None:
    """Thousands of sockets: 65,536 file descriptors, or as many as allowed (the servers and
    clients started afterwards inherit the limit)."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))  # raising the hard limit: root only
    except (ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def main() -> None:
    raise_open_files_limit()
    print(
        f"{RATE:g} updates/s over {MATCHES} matches for {SECONDS:g} s; {CLIENT_PROCESSES} client processes; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        # Thousands of sockets from one address: the per-IP cap would refuse all but the first.
        stack.env["REALTIME_MAX_SOCKETS_PER_IP"] = "0"
        try:
            stack.manage("migrate", "--noinput")
            stack.manage("load_demo_data")
            runs = [(design, sockets) for sockets in SOCKETS for design in DESIGNS if design != "hub2"]
            if "hub2" in DESIGNS:
                runs.append(("hub2", TWO_WEB_SOCKETS))
            for design, sockets in runs:
                result = Scenario(stack, design, sockets).run()
                results.append(result)
                print(f"  {design} {sockets}: {result}", flush=True)
        finally:
            stack.close()
    print()
    print_table(results)
    sys.stdout.flush()
