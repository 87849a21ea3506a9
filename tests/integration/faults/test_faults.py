"""Faults injected into a running system under a steady stream of bets.

Each test places bets over HTTP while the project's JS client holds sockets open, breaks one
part (SIGKILL of a worker's pool, of the worker, Redis killed and restarted empty, the broker
frozen, a web process killed), lets it come back, then checks that every committed bet is
counted in the odds, every socket holds the latest version, the ledger audit is clean and no
request got a 500. The recovery times are printed in the "fault recovery" summary.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.integration.faults.load import BetLoad, OddsWatchers
from tests.integration.faults.recovery import RECOVERIES, assert_recovered
from tests.integration.faults.stack import FaultStack, wait_until
from tests.integration.harness import new_bet_key

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(180)]

RATE = 10.0  # bets a second, spread over the test's matches
SOCKETS = 50
BEFORE, DURING = 2.0, 3.0  # seconds of bets before and during the fault (they stop when it ends)


class Scenario:
    """Fresh matches, sockets on one web process, and bets through the given ones."""

    def __init__(self, stack: FaultStack, node: list[str], web_port: int, bet_ports: list[int]) -> None:
        base = f"http://127.0.0.1:{web_port}"
        self.stack = stack
        self.matches = stack.create_matches(base, 3)
        self.watchers = OddsWatchers(node, f"ws://127.0.0.1:{web_port}/ws/odds/", SOCKETS)
        token = stack.jwt(base, "demo@oddstream.local", "demo-password")
        self.load = BetLoad([f"http://127.0.0.1:{port}" for port in bet_ports], token, self.matches, RATE)

    def __enter__(self) -> Scenario:
        self.load.start()
        time.sleep(BEFORE)
        return self

    def __exit__(self, *exc: object) -> None:
        self.load.stop()
        self.watchers.close()

    def check(self, name: str, fault_ended: float) -> None:
        assert_recovered(name, self.stack, self.load, self.watchers, self.matches, fault_ended)


def web_port(stack: FaultStack) -> int:
    return int(stack.process_named("daphne").name.split(":")[1])


def pool_pids(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_sigkill_of_every_pool_process_loses_no_bet(fault_stack: FaultStack, node: list[str]) -> None:
    port = web_port(fault_stack)
    worker = fault_stack.process_named("celery-worker")
    with Scenario(fault_stack, node, port, [port]) as scenario:
        for pid in pool_pids(worker.popen.pid):
            os.kill(pid, signal.SIGKILL)  # the worker forks new ones; the running task is redelivered
        fault_ended = time.monotonic()
        time.sleep(DURING)
        scenario.check("worker pool processes SIGKILLed", fault_ended)


def test_sigkill_of_the_worker_loses_no_bet(fault_stack: FaultStack, node: list[str]) -> None:
    port = web_port(fault_stack)
    with Scenario(fault_stack, node, port, [port]) as scenario:
        # Main process and pool, as an OOM kill of its container would; the supervisor restarts it.
        fault_stack.kill_group(fault_stack.process_named("celery-worker"))
        fault_ended = time.monotonic()
        time.sleep(DURING)
        scenario.check("worker SIGKILLed and restarted", fault_ended)


def test_redis_restarted_empty_loses_no_bet(fault_stack: FaultStack, node: list[str]) -> None:
    """One Redis for everything, as in production: the broker's queued tasks, the pending
    flags, the throttles and the pub/sub subscriptions all go; reconciliation recovers."""
    port = web_port(fault_stack)
    with Scenario(fault_stack, node, port, [port]) as scenario:
        fault_stack.data_redis.kill()
        fault_stack.broker_redis.kill()
        time.sleep(DURING)
        fault_stack.data_redis.start()
        fault_stack.broker_redis.start()
        fault_ended = time.monotonic()
        scenario.check("Redis killed and restarted empty", fault_ended)


def test_broker_unreachable_while_betting_loses_no_bet(fault_stack: FaultStack, node: list[str]) -> None:
    """The broker frozen (SIGSTOP: connections hang, as behind a network partition), the rest
    of Redis up: bets still commit, and their recomputes follow once it answers again."""
    port = web_port(fault_stack)
    broker = fault_stack.broker_redis.process
    assert broker is not None
    with Scenario(fault_stack, node, port, [port]) as scenario:
        broker.send_signal(signal.SIGSTOP)
        try:
            time.sleep(DURING)
        finally:
            broker.send_signal(signal.SIGCONT)
        fault_ended = time.monotonic()
        scenario.check("broker unreachable", fault_ended)


def test_web_process_killed_clients_reconnect_and_resync(fault_stack: FaultStack, node: list[str]) -> None:
    """Sockets on one web process, bets through another; the first is SIGKILLed and comes back
    on its address, and the JS client reconnects and resyncs."""
    socket_port = web_port(fault_stack)
    _, bet_port = fault_stack.start_web()
    with Scenario(fault_stack, node, socket_port, [bet_port]) as scenario:
        web = fault_stack.process_named(f"daphne:{socket_port}")
        fault_stack.kill_group(web)
        time.sleep(DURING)
        fault_stack.start_web(socket_port)
        fault_ended = time.monotonic()
        scenario.check("web process SIGKILLed and restarted", fault_ended)


# Run alone, this test starts the fault stack (two Redis, migrations, demo data, web, worker,
# beat): minutes on a loaded machine, seconds for the test itself.
@pytest.mark.timeout(600)
def test_sigkill_of_the_worker_with_in_play_bets_pending_loses_and_double_holds_none(fault_stack: FaultStack) -> None:
    """In-play bets pending, their decision tasks waiting out the countdown in the worker's
    memory; the worker is SIGKILLed with them and restarted: beat's sweep decides every one,
    once. No bet stays pending, no hold outlives its bet, and the ledger audit is clean."""
    port = web_port(fault_stack)
    base = f"http://127.0.0.1:{port}"
    [match_id] = fault_stack.create_matches(base, 1)
    feed_token = fault_stack.manage("feed_token", "fault-feed").strip()
    kick_off = {
        "event_id": f"fault-{match_id}-1",
        "match": match_id,
        "sequence": 1,
        "kind": "kick_off",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    reply = httpx.post(f"{base}/api/feed/events/", json=kick_off, headers={"Authorization": f"Feed {feed_token}"})
    assert reply.status_code == 202, reply.text
    assert wait_until(lambda: fault_stack.query(f"SELECT in_play FROM betting_match WHERE id={match_id}")[0][0], 30)

    token = fault_stack.jwt(base, "demo@oddstream.local", "demo-password")
    bettor = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    held_before = bettor.get("/api/wallet/").json()["held"]
    bet = {"match": match_id, "selection": "home", "stake": "1.00", "accept_odds_change": "any"}
    ids = []
    for _ in range(20):
        reply = bettor.post("/api/bets/", json=bet, headers=new_bet_key())
        assert reply.status_code == 202, reply.text
        ids.append(reply.json()["id"])
    marks = ",".join(map(str, ids))
    pending_sql = f"SELECT COUNT(*) FROM betting_bet WHERE id IN ({marks}) AND status='pending'"
    assert fault_stack.query(pending_sql)[0][0] > 0, "the bets were decided before the kill"

    fault_stack.kill_group(fault_stack.process_named("celery-worker"))  # the supervisor restarts it
    killed = time.monotonic()
    took = wait_until(lambda: fault_stack.query(pending_sql)[0][0] == 0, 240)
    assert took is not None, f"bets still pending: {fault_stack.log_tails()}"

    decided = fault_stack.query(
        f"SELECT b.status, b.reason, d.decision_ms FROM betting_bet b JOIN betting_betdelay d ON d.bet_id = b.id "
        f"WHERE b.id IN ({marks})"
    )
    assert len(decided) == len(ids) and all(ms is not None for _, _, ms in decided)
    accepted = [row for row in decided if row[0] == "open"]
    stakes = fault_stack.query(
        f"SELECT bet_id, COUNT(*) FROM betting_ledgerentry WHERE kind='stake' AND bet_id IN ({marks}) GROUP BY bet_id"
    )
    assert len(stakes) == len(accepted) and all(n == 1 for _, n in stakes)
    assert bettor.get("/api/wallet/").json()["held"] == held_before
    assert fault_stack.manage("audit_ledger").startswith("Ledger audit passed")
    times = sorted(ms for _, _, ms in decided)
    reasons = sorted({reason or status for status, reason, _ in decided})
    line = (
        f"worker SIGKILLed with {len(ids)} in-play bets pending: all decided {took:.1f} s after the kill "
        f"({len(accepted)} accepted; {reasons}); placement to decision p50 {statistics.median(times):.0f} ms, "
        f"max {times[-1]:.0f} ms (delay 2000 ms)"
    )
    RECOVERIES.append(line)
    print("\n" + line)
    bettor.close()
    assert killed  # the decisions above all came after the kill
