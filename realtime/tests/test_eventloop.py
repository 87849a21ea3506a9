"""The web process's event loop takes a bounded number of ready sockets per turn, every one of
them in the end, and runs timers between turns; Daphne runs on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from realtime.eventloop import BoundedEpollSelector, bounded_event_loop

pytestmark = pytest.mark.skipif(not hasattr(__import__("selectors"), "EpollSelector"), reason="epoll is Linux's")

ROOT = Path(__file__).resolve().parents[2]


def test_a_burst_of_ready_sockets_is_spread_over_turns_and_none_is_left_behind() -> None:
    loop = bounded_event_loop(16)
    assert isinstance(loop._selector, BoundedEpollSelector)
    pairs = [socket.socketpair() for _ in range(200)]
    timeline: list[str] = []  # "x" a ready socket handled, "|" the start of a turn
    try:

        def handled(ours: socket.socket) -> None:
            loop.remove_reader(ours.fileno())
            timeline.append("x")

        def turn() -> None:
            timeline.append("|")
            if timeline.count("x") < len(pairs):
                loop.call_soon(turn)  # call_soon from a callback: it runs in the next turn
            else:
                loop.stop()

        for ours, theirs in pairs:
            loop.add_reader(ours.fileno(), handled, ours)
            theirs.close()  # the peer goes away: every socket is ready at once, as in a mass reset
        loop.call_soon(turn)
        loop.run_forever()
    finally:
        loop.close()
        for ours, _ in pairs:
            ours.close()
    turns = "".join(timeline).split("|")
    assert timeline.count("x") == len(pairs)  # each handled once
    assert max(len(batch) for batch in turns) == 16  # never more than the bound in one turn
    assert len([batch for batch in turns if batch]) >= len(pairs) // 16


def test_select_returns_everything_ready_below_the_bound() -> None:
    selector = BoundedEpollSelector(64)
    pairs = [socket.socketpair() for _ in range(5)]
    try:
        for ours, theirs in pairs:
            selector.register(ours, 1)  # EVENT_READ
            theirs.send(b"x")
        assert len(selector.select(0)) == 5
        assert selector.select(0.001)[0][0].fileobj in [ours for ours, _ in pairs]
    finally:
        selector.close()
        for ours, theirs in pairs:
            ours.close()
            theirs.close()
    with pytest.raises(ValueError):
        BoundedEpollSelector(0)


@pytest.mark.db_independent
def test_daphne_runs_on_the_bounded_loop_and_the_setting_can_turn_it_off() -> None:
    probe = (
        "from config.daphne import event_loop_install; event_loop_install();"
        "import daphne.server; from twisted.internet import reactor;"
        "selector = reactor._asyncioEventloop._selector;"
        "print(type(selector).__name__, getattr(selector, 'max_events', None))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test_fast"}
    for value, expected in (("32", "BoundedEpollSelector 32"), ("0", "EpollSelector None")):
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**env, "REALTIME_LOOP_MAX_EVENTS": value},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.stdout.strip() == expected, result.stderr
    # `main` installs it before anything imports Daphne's server module.
    source = (ROOT / "config" / "daphne.py").read_text()
    assert source.index("    event_loop_install()") < source.index("from daphne.cli import")
