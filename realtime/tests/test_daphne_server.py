"""`realtime.daphne_server.SlicedServer`: Daphne's periodic walks over its connections, a slice
per loop turn, with Daphne's own per-connection code.

The contract tests fail when the installed Daphne's walks are no longer the code that
`SlicedServer` copies or schedules: an upgrade must re-read `daphne/server.py` and update it.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
import threading
import time
from importlib.metadata import version
from typing import Any

import pytest
from daphne.cli import CommandLineInterface
from daphne.server import Server

import config.daphne
from realtime import daphne_server
from realtime.daphne_server import BackgroundStream, SlicedServer, walk_slice


def function_of(cls: type, name: str) -> ast.FunctionDef:
    node = ast.parse(textwrap.dedent(inspect.getsource(getattr(cls, name)))).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def dump(statements: list[ast.stmt]) -> list[str]:
    return [ast.dump(statement) for statement in statements]


def test_the_copied_application_check_is_daphnes_loop_body() -> None:
    assert version("daphne") == "4.2.3"  # pyproject.toml pins it; this contract was read on it
    daphnes = function_of(Server, "application_checker")
    loop, reschedule = daphnes.body[1], daphnes.body[2]
    assert isinstance(loop, ast.For)
    assert ast.unparse(loop.iter) == "list(self.connections.items())"
    assert ast.unparse(loop.target) == "(protocol, details)"
    assert ast.unparse(reschedule) == "reactor.callLater(1, self.application_checker)"
    ours = function_of(SlicedServer, "application_check")
    assert dump(ours.body) == dump(loop.body)


def test_daphnes_timeout_walk_and_its_schedule_are_what_the_sliced_server_replaces() -> None:
    daphnes = function_of(Server, "timeout_checker")
    assert [ast.unparse(statement) for statement in daphnes.body[1:]] == [
        "for protocol in list(self.connections.keys()):\n    protocol.check_timeouts()",
        "reactor.callLater(2, self.timeout_checker)",
    ]
    run = ast.unparse(function_of(Server, "run"))
    assert "reactor.callLater(1, self.application_checker)" in run
    assert "reactor.callLater(2, self.timeout_checker)" in run
    assert (daphne_server.APPLICATION_CHECK_SECONDS, daphne_server.TIMEOUT_CHECK_SECONDS) == (1.0, 2.0)
    # Daphne's command line makes its server from this class attribute.
    assert CommandLineInterface.server_class is Server
    assert "self.server_class(" in inspect.getsource(CommandLineInterface.run)


def test_daphne_started_by_the_project_runs_the_sliced_server_unless_the_setting_is_0(settings) -> None:
    assert '"server_class": server_class()' in inspect.getsource(config.daphne.main)
    settings.REALTIME_WALK_SLICE_MS = 5
    sliced = config.daphne.server_class()
    assert issubclass(sliced, SlicedServer) and sliced.slice_seconds == 0.005
    settings.REALTIME_WALK_SLICE_MS = 0
    assert config.daphne.server_class() is Server


def test_a_walk_visits_every_connection_once_a_bounded_slice_at_a_time() -> None:
    connections: dict[Any, dict[str, Any]] = {n: {} for n in range(1234)}
    pending = iter(list(connections))
    visited: list[int] = []
    del connections[7]  # closed and forgotten after the walk started: skipped
    slices = 0
    while True:
        slices += 1
        before = len(visited)
        done = walk_slice(pending, connections, lambda protocol, details: visited.append(protocol), 1.0)
        assert len(visited) - before <= daphne_server.WALK_SLICE_CONNECTIONS
        if done:
            break
    assert sorted(visited) == [n for n in range(1234) if n != 7]
    assert slices >= 1234 // daphne_server.WALK_SLICE_CONNECTIONS
    # A slow visit ends the slice at the time budget, before the count.
    pending = iter(list(connections))
    slow: list[int] = []

    def slow_visit(protocol: Any, details: dict[str, Any]) -> None:
        slow.append(protocol)
        time.sleep(0.002)

    walk_slice(pending, connections, slow_visit, 0.001)
    assert len(slow) == 1


class FakeReactor:
    def __init__(self) -> None:
        self.calls: list[tuple[float, Any]] = []

    def callLater(self, delay: float, function: Any) -> None:  # Twisted's name
        self.calls.append((delay, function))


class Protocol:
    def __init__(self) -> None:
        self.timeouts_checked = 0

    def check_timeouts(self) -> None:
        self.timeouts_checked += 1


def sliced_server(connections: dict[Any, dict[str, Any]]) -> SlicedServer:
    server = SlicedServer.__new__(SlicedServer)  # no endpoints, no reactor: the walks only
    server.connections = connections
    server.application_close_timeout = 10
    return server


def run_walk(reactor: FakeReactor) -> tuple[int, float]:
    """Run the queued zero-delay slices; (how many, the delay of the next walk)."""
    slices = 0
    while reactor.calls and reactor.calls[0][0] == 0:
        slices += 1
        reactor.calls.pop(0)[1]()
    delay, _ = reactor.calls.pop(0)
    return slices, delay


async def test_the_application_walk_reaps_like_daphnes_over_several_turns(monkeypatch) -> None:
    reactor = FakeReactor()
    monkeypatch.setattr(daphne_server, "_reactor", lambda: reactor)

    async def finished() -> None:
        return None

    async def stuck() -> None:
        await asyncio.sleep(3600)

    count = 3 * daphne_server.WALK_SLICE_CONNECTIONS
    done = [asyncio.ensure_future(finished()) for _ in range(count)]
    hanging = asyncio.ensure_future(stuck())
    await asyncio.sleep(0)
    gone, open_, late = Protocol(), Protocol(), Protocol()
    protocols = [Protocol() for _ in range(count)]
    connections: dict[Any, dict[str, Any]] = {
        protocol: {"application_instance": task, "disconnected": time.time()}
        for protocol, task in zip(protocols, done, strict=True)
    }
    connections[gone] = {"disconnected": time.time()}  # closed, its instance already reaped
    connections[open_] = {"application_instance": asyncio.ensure_future(stuck())}  # still running
    connections[late] = {"application_instance": hanging, "disconnected": time.time() - 60}  # past the close timeout
    server = sliced_server(connections)

    server.application_checker()
    slices, delay = run_walk(reactor)
    assert slices >= 2  # the first slice ran in the call, the rest at later turns
    assert delay == 1.0  # then the next walk, at Daphne's interval
    assert set(connections) == {open_, late}
    await asyncio.sleep(0)
    assert hanging.cancelled()  # killed as Daphne kills it; reaped by the next walk
    server.application_checker()
    run_walk(reactor)
    assert set(connections) == {open_}
    connections[open_]["application_instance"].cancel()


def test_the_timeout_walk_checks_every_protocol_then_comes_back_in_two_seconds(monkeypatch) -> None:
    reactor = FakeReactor()
    monkeypatch.setattr(daphne_server, "_reactor", lambda: reactor)
    protocols = [Protocol() for _ in range(1001)]
    server = sliced_server({protocol: {} for protocol in protocols})
    server.timeout_checker()
    slices, delay = run_walk(reactor)
    assert slices >= 2
    assert delay == 2.0
    assert [protocol.timeouts_checked for protocol in protocols] == [1] * 1001


@pytest.mark.parametrize("name", ["application_checker", "timeout_checker"])
def test_the_sliced_server_overrides_both_walks(name: str) -> None:
    assert getattr(SlicedServer, name) is not getattr(Server, name)


# --- The access log, written by a thread ----------------------------------------------------
def test_daphnes_access_log_writes_to_the_stream_it_was_given() -> None:
    from daphne.access import AccessLogGenerator

    assert "self.stream = stream" in inspect.getsource(AccessLogGenerator.__init__)
    assert "self.stream.write(" in inspect.getsource(AccessLogGenerator.write_entry)
    assert "AccessLogGenerator(access_log_stream)" in inspect.getsource(CommandLineInterface.run)


class BlockedStream:
    """A pipe whose reader is late: every write waits until it is let go."""

    def __init__(self) -> None:
        self.let_go = threading.Event()
        self.text = ""

    def write(self, text: str) -> None:
        self.let_go.wait(10)
        self.text += text

    def flush(self) -> None:
        pass


def test_the_access_log_never_blocks_the_loop_and_keeps_every_line_in_order() -> None:
    from daphne.access import AccessLogGenerator

    blocked = BlockedStream()
    server = SlicedServer(application=None, endpoints=["tcp:port=0"], action_logger=AccessLogGenerator(blocked))
    stream = server.action_logger.stream
    assert isinstance(stream, BackgroundStream)
    started = time.monotonic()
    for n in range(2000):
        server.action_logger("websocket", "disconnected", {"path": f"/ws/odds/{n}", "client": ["127.0.0.1", n]})
    assert time.monotonic() - started < 1.0  # the writer thread waits; the caller does not
    blocked.let_go.set()
    deadline = time.monotonic() + 10
    while blocked.text.count("\n") < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = blocked.text.splitlines()
    assert len(lines) == 2000
    assert [line.split('"')[1].split()[1] for line in lines[:3]] == ["/ws/odds/0", "/ws/odds/1", "/ws/odds/2"]
    assert "WSDISCONNECT" in lines[-1] and "/ws/odds/1999" in lines[-1]


def test_a_full_access_log_queue_drops_and_counts_rather_than_waits() -> None:
    blocked = BlockedStream()
    stream = BackgroundStream(blocked, max_lines=10)
    for n in range(100):
        stream.write(f"{n}\n")
    assert stream.dropped >= 80
    blocked.let_go.set()
    stream.drain()
