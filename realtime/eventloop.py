"""The web process's event loop: at most a bounded number of socket events per turn.

asyncio's selector loop runs, in one turn, a callback for every descriptor the selector found
ready. When thousands of sockets become ready at once (a proxy or a network link between the
clients and the server goes away, and every socket is reset together), Twisted's connection
loss, Daphne's disconnect and the consumers' teardown of all of them run in one or two turns:
the loop does nothing else meanwhile, no frame goes out, no timer fires, for seconds.

`BoundedEpollSelector` asks epoll for at most `max_events` ready descriptors a turn. epoll is
level-triggered here, so a descriptor not returned stays ready and is returned by a later turn
(epoll rotates its ready list: none waits behind the others for ever), and timers and frames run
between turns. A turn that takes `max_events` of the burst costs a few tens of milliseconds, not
seconds (docs/realtime-delivery.md#mass-disconnect). In normal running, far fewer descriptors
than that are ready in one turn, and nothing changes.

`install_reactor(max_events)` makes Twisted's asyncio reactor (the one Daphne runs) use a loop
on this selector; it must run before anything imports `twisted.internet.reactor` (Daphne's
server module installs its own otherwise). Linux only: elsewhere the default loop is kept.
"""

from __future__ import annotations

import asyncio
import math
import os
import selectors
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class BoundedEpollSelector(selectors.EpollSelector):
    """An epoll selector that returns at most `max_events` ready descriptors per `select`."""

    def __init__(self, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        super().__init__()
        self.max_events = max_events

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        # As selectors.EpollSelector.select, with the number of events asked for bounded.
        if timeout is None:
            poll_timeout = -1.0
        elif timeout <= 0:
            poll_timeout = 0.0
        else:
            poll_timeout = math.ceil(timeout * 1e3) * 1e-3  # epoll counts milliseconds: round up
        max_ev = min(max(len(self._fd_to_key), 1), self.max_events)  # type: ignore[attr-defined]
        ready: list[tuple[selectors.SelectorKey, int]] = []
        try:
            fd_event_list = self._selector.poll(poll_timeout, max_ev)  # type: ignore[attr-defined]
        except InterruptedError:
            return ready
        for fd, event in fd_event_list:
            events = 0
            if event & ~selectors.select.EPOLLIN:  # type: ignore[attr-defined]
                events |= selectors.EVENT_WRITE
            if event & ~selectors.select.EPOLLOUT:  # type: ignore[attr-defined]
                events |= selectors.EVENT_READ
            key = self._fd_to_key.get(fd)  # type: ignore[attr-defined]
            if key:
                ready.append((key, events & key.events))
        return ready


def bounded_event_loop(max_events: int) -> asyncio.AbstractEventLoop:
    """A new event loop whose turns take at most `max_events` ready descriptors (Linux), or
    the default loop where epoll is not available."""
    if not hasattr(selectors, "EpollSelector"):
        return asyncio.new_event_loop()
    return asyncio.SelectorEventLoop(BoundedEpollSelector(max_events))


def install_reactor(max_events: int) -> Any:
    """Install Twisted's asyncio reactor on a bounded loop (see the module's docstring); the
    reactor already installed if there is one (then this changes nothing)."""
    if "twisted.internet.reactor" in sys.modules:
        return sys.modules["twisted.internet.reactor"]
    from twisted.internet import asyncioreactor

    loop = bounded_event_loop(max_events)
    if "ASGI_THREADS" in os.environ:  # what Daphne does for the loop it would have made
        loop.set_default_executor(ThreadPoolExecutor(max_workers=int(os.environ["ASGI_THREADS"])))
    asyncioreactor.install(loop)
    return sys.modules["twisted.internet.reactor"]
