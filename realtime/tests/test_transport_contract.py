"""The direct write path's contract with the locked Daphne, Twisted and autobahn.

`realtime/transport.py` reads their internals; these tests fail when an upgrade moves them.
The live half (a real Daphne process, frames received whole, the process's metric saying the
path is on) is `tests/integration/test_direct_write.py`.
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import version

from realtime import transport
from realtime.transport import DaphneTransportMiddleware, DirectWrite, direct_write_problems


def test_the_locked_versions_have_everything_the_direct_write_path_reads() -> None:
    assert direct_write_problems() == []
    # The versions this contract was written against (pyproject.toml pins them).
    assert (version("daphne"), version("Twisted"), version("autobahn")) == ("4.2.3", "26.10.0", "26.11.1")


async def test_under_daphne_a_failed_probe_logs_an_error_and_says_so(monkeypatch, caplog) -> None:
    monkeypatch.setattr(transport, "under_daphne", lambda: True)
    monkeypatch.setattr(DirectWrite, "available", None)

    async def app(scope, receive, send) -> None:
        assert scope[transport.SCOPE_KEY] is None

    async def send(message) -> None:  # not Daphne's functools.partial(server.handle_reply, protocol)
        pass

    with caplog.at_level(logging.ERROR, logger="realtime.transport"):
        await DaphneTransportMiddleware(app)({"type": "websocket"}, None, send)
    assert DirectWrite.available is False
    assert "Direct WebSocket writes are off" in caplog.text


def test_the_probe_finds_a_transport_only_behind_daphnes_send() -> None:
    assert transport.transport_of(functools.partial(print, object())) is None
    assert transport.transport_of(print) is None
