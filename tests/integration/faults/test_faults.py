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
import time
from pathlib import Path

import pytest

from tests.integration.faults.load import BetLoad, OddsWatchers
from tests.integration.faults.recovery import assert_recovered
from tests.integration.faults.stack import FaultStack

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
