"""How many hub messages one Redis primary can fan out: the figure that says when the hubs'
subscriptions must move to Redis Cluster's sharded pub/sub (docs/realtime-delivery.md).

Every web process's hub holds one subscription to the fast-path channel, so each PUBLISH of an
odds change is written once per web process. A private `redis-server` (free port, never the
machine's), SUBSCRIBERS subscribers (`redis-cli subscribe`, which read as fast as Redis writes,
like a hub that keeps up) and `redis-benchmark` publishing a payload the size of a real odds
envelope (`encode_group_send` of a frame), pipelined from a few connections until PUBLISH_COUNT
are sent. Printed per pipeline depth (1: one command per round trip, as the publishers send; 16: the
server's own cost with little of the system calls) and subscriber count: publishes a second,
deliveries a second (publishes x subscribers), and the server's own CPU per publish from /proc,
which depends less than the rates on what else the machine runs. A least-squares line splits it
into a fixed cost per publish and a cost per delivery: a primary's core is spent when
publishes/s x (fixed + per delivery x web processes) reaches one second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from workers.embedded_redis import free_port, start_embedded

SUBSCRIBERS = [int(n) for n in os.environ.get("PUBSUB_SUBSCRIBERS", "1,4,16").split(",")]
PIPELINES = [int(n) for n in os.environ.get("PUBSUB_PIPELINES", "1,16").split(",")]
COUNT = int(os.environ.get("PUBLISH_COUNT", "100000"))
TIMEOUT_SECONDS = 60


def envelope_size() -> int:
    from bench.bench_publish import frame
    from realtime import streams
    from realtime.publisher import get_layer

    layer = get_layer()
    sent = [
        pair
        for groups, message in streams.group_messages("odds", frame(1), {"match": 1})
        for pair in layer.encode_group_send(groups, message)
    ]
    return max(len(payload) for _, payload in sent)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(port: int, pid: int, subscribers: int, pipeline: int, size: int) -> tuple[float, float]:
    listeners = [
        subprocess.Popen(
            ["redis-cli", "-p", str(port), "subscribe", "bench-fast"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(subscribers)
    ]
    try:
        time.sleep(0.5)  # subscribed
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        command = ["redis-benchmark", "-p", str(port), "-c", "8", "-P", str(pipeline), "-n", str(COUNT), "-q"]
        subprocess.run(
            [*command, "PUBLISH", "bench-fast", "x" * size],
            check=True,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    finally:
        for listener in listeners:
            listener.kill()
            listener.wait(timeout=10)
    return COUNT / elapsed, cpu


def main() -> None:
    if not (shutil.which("redis-benchmark") and shutil.which("redis-cli")):
        print("redis-benchmark and redis-cli are needed (Debian: redis-tools): skipped")
        return
    size = envelope_size()
    port = free_port()
    server = start_embedded(port)
    try:
        print(f"PUBLISH of {size} bytes, {COUNT:,} per row from 8 connections; one redis-server")
        print(
            "| pipeline | subscribers (web processes) | publishes/s | deliveries/s "
            "| server CPU per publish | per delivery (fit) |"
        )
        print("|---|---|---|---|---|---|")
        for pipeline in PIPELINES:
            costs: list[tuple[int, float]] = []
            for subscribers in SUBSCRIBERS:
                rate, cpu = measure(port, server.pid, subscribers, pipeline, size)
                costs.append((subscribers, cpu / COUNT * 1e6))
                print(
                    f"| {pipeline} | {subscribers} | {rate:,.0f} | {rate * subscribers:,.0f} "
                    f"| {cpu / COUNT * 1e6:.2f} µs | |",
                    flush=True,
                )
            # CPU per publish = fixed + per_delivery x subscribers: the least-squares line.
            xs, ys = [x for x, _ in costs], [y for _, y in costs]
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            spread = sum((x - mean_x) ** 2 for x in xs) or 1.0
            per_delivery = sum((x - mean_x) * (y - mean_y) for x, y in costs) / spread
            print(
                f"| {pipeline} | fit | | | {mean_y - per_delivery * mean_x:.2f} µs fixed | {per_delivery:.2f} µs |",
                flush=True,
            )
    finally:
        server.kill()
        server.wait(timeout=10)
