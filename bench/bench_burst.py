"""A burst of 1,000 bets on one match in one second, through the real pipeline.

Starts a Stack of its own (fresh database, Redis, one real Celery worker process), then a
child process places the bets with `placement.bet_place` (the bet transaction and its
after-commit enqueue) as evenly as it can over one second, and listens to the odds stream.
Two ways in: `bet_place` itself (one transaction per bet, whose commit rate on this machine
is below 1,000/s), and 10 bets per transaction doing what bet_place does, so the arrival
rate really is 1,000 a second. Prints the recomputes the worker started (counted in Redis by
the recompute itself) against the coalescing bound, the versions published (from the
database), and the delay from the last bet's commit to the publish that counts it. Three
runs each.
"""

import statistics
import tempfile
from pathlib import Path

from tests.integration.burst import run_burst_process
from tests.integration.harness import Stack

RUNS, BETS, SECONDS = 3, 1000, 1.0


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        stack = Stack(Path(scratch))
        try:
            stack.manage("migrate", "--noinput")
            stack.start_worker()
            for per_transaction in (1, 10):
                burst(stack, per_transaction)
        finally:
            stack.close()


def burst(stack: Stack, per_transaction: int) -> None:
    how = "bet_place, one transaction per bet" if per_transaction == 1 else f"{per_transaction} bets per transaction"
    print(f"-- {how}")
    delays, runs = [], []
    for attempt in range(1, RUNS + 1):
        result = run_burst_process(stack, BETS, SECONDS, per_transaction)
        delays.append(result["last_bet_to_publish_ms"])
        runs.append(result["recompute_runs"])
        seconds, interval = result["burst_seconds"], result["min_interval_seconds"]
        print(
            f"run {attempt}: {BETS} bets in {seconds:.2f} s → {result['recompute_runs']} recomputes"
            f" (bound {result['bound']} = ⌊{seconds:.2f} / {interval}⌋ + 2), {result['versions']} versions;"
            f" last publish counts {result['last_published_bets']} bets;"
            f" last bet → publish {result['last_bet_to_publish_ms']:.1f} ms;"
            f" pipeline latency p50 {result['pipeline_latency_ms_p50']:.1f} ms,"
            f" max {result['pipeline_latency_ms_max']:.1f} ms",
            flush=True,
        )
    print(
        f"median over {RUNS} runs: {statistics.median(runs):.0f} recomputes for {BETS} bets;"
        f" last bet → publish {statistics.median(delays):.1f} ms"
    )
