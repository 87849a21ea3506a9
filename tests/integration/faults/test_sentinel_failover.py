"""The Redis primary SIGKILLed under load, with Redis Sentinel: a replica is promoted and the
whole stack follows it.

A primary, a replica and three sentinels on local ports (`sentinel.SentinelTopology`); a Daphne,
a Celery worker and beat configured with REDIS_SENTINELS only (the broker, the cache, the hub,
the publisher, presence and revocations all find the primary through the sentinels). Bets
arrive at 10 a second while 1,000 sockets of the project's JS client watch the odds; the primary
is SIGKILLed. Then: no bet lost, no 500 (a 503 with Retry-After is allowed while no primary
answers), every socket on the latest version within 10 s of the promotion (or of the answer to
the last bet placed after it, which moves the latest version until then), the ledger audit
clean. The times go to the "fault recovery" summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.faults.load import BetLoad, OddsWatchers
from tests.integration.faults.recovery import RECOVERIES, assert_recovered
from tests.integration.faults.sentinel import MASTER_NAME, SentinelTopology
from tests.integration.faults.stack import TEST_DATABASE, FaultStack, running_fault_stack
from tests.integration.harness import Stack

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(600)]

RATE = 10.0  # bets a second
SOCKETS = 1000
BEFORE, AFTER = 2.0, 2.0  # seconds of bets before the kill, and after the promotion
CONVERGE_SECONDS = 10.0  # every socket on the latest version this long after the promotion


class SentinelStack(FaultStack):
    """A FaultStack whose Redis is a Sentinel topology: no private data or broker Redis of its
    own, and no CELERY_BROKER_URL, so the broker too is found through the sentinels."""

    def __init__(self, workdir: Path) -> None:
        self.topology = SentinelTopology()
        self.cluster = None
        self.restarts = []
        self._supervising = threading.Event()
        Stack.__init__(self, workdir)
        self.env.pop("CELERY_BROKER_URL", None)
        self.env.update(
            REDIS_SENTINELS=self.topology.sentinels,
            REDIS_SENTINEL_MASTER=MASTER_NAME,
            THROTTLE_BETS="100000/minute",
            CONN_MAX_AGE="60",
            REALTIME_MAX_SOCKETS_PER_IP="0",  # every socket comes from 127.0.0.1
        )

    def _redis(self) -> str:
        self.topology.start()
        # Under Sentinel only the database number counts; the address is the first primary's.
        return f"redis://127.0.0.1:{self.topology.primary_port}/{TEST_DATABASE}"

    def close(self) -> None:
        self._supervising.clear()
        time.sleep(0.5)
        try:
            Stack.close(self)
        finally:
            self.topology.stop()


@pytest.fixture(scope="module")
def sentinel_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    workdir = Path(tmp_path_factory.mktemp("faults-sentinel"))
    with running_fault_stack(workdir, stack=SentinelStack(workdir)) as stack:
        yield stack


def test_the_primary_killed_a_replica_takes_over_and_nothing_is_lost(
    sentinel_stack: FaultStack, node: list[str]
) -> None:
    stack = sentinel_stack
    assert isinstance(stack, SentinelStack)
    port = int(stack.process_named("daphne").name.split(":")[1])
    base = f"http://127.0.0.1:{port}"
    matches = stack.create_matches(base, 3)
    watchers = OddsWatchers(node, f"ws://127.0.0.1:{port}/ws/odds/", SOCKETS, ready_timeout=180, batch=100)
    load = BetLoad([base], stack.jwt(base, "demo@oddstream.local", "demo-password"), matches, RATE)
    try:
        load.start()
        time.sleep(BEFORE)
        before = stack.topology.master_address()
        assert before is not None
        killed = time.monotonic()
        stack.topology.kill_primary()
        promotion = stack.topology.wait_for_promotion(before)
        assert promotion is not None, f"no replica was promoted\n{stack.log_tails()}"
        promoted = killed + promotion
        time.sleep(AFTER)
        load.stop()  # waits for the bets still in flight: the latest version is known from here
        settled = max(promoted, time.monotonic())
        _, sockets_at = assert_recovered(
            "Redis primary SIGKILLed, replica promoted by Sentinel", stack, load, watchers, matches, promoted
        )
    finally:
        load.stop()
        watchers.close()
    line = (
        f"Sentinel failover: promotion {promotion:.1f} s after the kill; all {SOCKETS} sockets on the latest "
        f"version {sockets_at - promoted:.1f} s after the promotion, {sockets_at - settled:.1f} s after the "
        f"last bet placed after it was answered ({AFTER:.0f} s of bets after the promotion)"
    )
    RECOVERIES.append(line)
    print("\n" + line)
    # The latest version moves until the last bet is answered; from then on, or from the
    # promotion if later, every socket must have it within CONVERGE_SECONDS.
    assert sockets_at - settled <= CONVERGE_SECONDS, line
