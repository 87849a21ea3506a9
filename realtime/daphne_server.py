"""Daphne's server with its two periodic walks over every connection spread over loop turns.

Daphne's `Server` walks all its connections in one loop callback twice over:
`application_checker` every second (it reaps the application instances that finished and
forgets the connections that closed) and `timeout_checker` every 2 s (each protocol's
timeouts and keep-alive ping). At 10,000 sockets each walk is one long callback during which
the loop runs nothing else, and after a mass disconnect the reaping walk also frees 10,000
connections, consumers and tasks in that one callback (docs/realtime-delivery.md#mass-disconnect).

`SlicedServer` does the same work per connection, by the same code, a slice at a time: a
slice ends after `WALK_SLICE_CONNECTIONS` connections or `slice_seconds` (REALTIME_WALK_SLICE_MS),
whichever comes first, and the walk goes on at the next loop turn (`reactor.callLater(0, ...)`), so timers,
frames and other sockets' events run between slices. The next walk is scheduled when one ends,
at Daphne's intervals. The connections a walk visits are those present when it started; one
that closed meanwhile is skipped (the next walk reaps it).

It also writes Daphne's access log (a line per HTTP request, WebSocket connect and disconnect,
to stdout by default) from a thread of its own (`BackgroundStream`): a line written on the loop
blocks the loop whenever the pipe to the log collector is full, and in a mass disconnect the
10,000 lines of the disconnects were a quarter of the drop's samples under py-spy.

`application_check` is Daphne 4.2.3's `Server.application_checker` loop body, unchanged; Daphne
offers no hook for it, so it is copied here. `realtime/tests/test_daphne_server.py` fails if the
installed Daphne's two walks differ from the code copied (an upgrade must re-read them), and
`config.daphne` runs Daphne's own command line with this class as its `server_class` (a class
attribute of Daphne's `CommandLineInterface` meant for this).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from daphne.access import AccessLogGenerator
from daphne.server import Server

logger = logging.getLogger("daphne.server")  # Daphne's own logger: its messages keep their source

WALK_SLICE_CONNECTIONS = 500
APPLICATION_CHECK_SECONDS = 1.0  # Daphne's intervals
TIMEOUT_CHECK_SECONDS = 2.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class SlicedServer(Server):
    """Daphne's `Server`, its periodic walks over the connections done a slice per loop turn."""

    connections: dict[Any, dict[str, Any]]
    slice_seconds = 0.005

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.action_logger, AccessLogGenerator):
            self.action_logger.stream = BackgroundStream(self.action_logger.stream)

    def application_checker(self) -> None:
        """As Daphne's: reap finished application instances, forget closed connections."""
        self.walk_in_slices(
            self.application_check,
            then=lambda: _reactor().callLater(APPLICATION_CHECK_SECONDS, self.application_checker),
        )

    def timeout_checker(self) -> None:
        """As Daphne's: each protocol's timeouts and keep-alive ping."""
        self.walk_in_slices(
            lambda protocol, details: protocol.check_timeouts(),
            then=lambda: _reactor().callLater(TIMEOUT_CHECK_SECONDS, self.timeout_checker),
        )

    def walk_in_slices(self, visit: Callable[[Any, dict[str, Any]], None], then: Callable[[], Any]) -> None:
        """`visit(protocol, details)` for each connection present now, a slice per loop turn;
        `then()` once all are visited."""
        pending = iter(list(self.connections))

        def next_slice() -> None:
            if walk_slice(pending, self.connections, visit, self.slice_seconds):
                then()
            else:
                _reactor().callLater(0, next_slice)

        next_slice()

    def application_check(self, protocol: Any, details: dict[str, Any]) -> None:
        # Daphne 4.2.3, Server.application_checker, the body of its loop (unchanged but for
        # `logger`, which is Daphne's here too).
        disconnected = details.get("disconnected", None)  # noqa: SIM910
        application_instance = details.get("application_instance", None)  # noqa: SIM910
        # First, see if the protocol disconnected and the app has taken
        # too long to close up
        if disconnected and time.time() - disconnected > self.application_close_timeout:  # noqa: SIM102
            if application_instance and not application_instance.done():
                logger.warning(
                    "Application instance %r for connection %s took too long to shut down and was killed.",
                    application_instance,
                    repr(protocol),
                )
                application_instance.cancel()
        # Then see if the app is done and we should reap it
        if application_instance and application_instance.done():
            try:
                exception = application_instance.exception()
            except (CancelledError, asyncio.CancelledError):
                # Future cancellation. We can ignore this.
                pass
            else:
                if exception:
                    if isinstance(exception, KeyboardInterrupt):
                        # Protocol is asking the server to exit (likely during test)
                        self.stop()
                    else:
                        logger.error(
                            "Exception inside application: %s",
                            exception,
                            exc_info=exception,
                        )
                        if not disconnected:
                            protocol.handle_exception(exception)
            del self.connections[protocol]["application_instance"]
            application_instance = None
        # Check to see if protocol is closed and app is closed so we can remove it
        if not application_instance and disconnected:
            del self.connections[protocol]


def walk_slice(
    pending: Iterator[Any],
    connections: dict[Any, dict[str, Any]],
    visit: Callable[[Any, dict[str, Any]], None],
    seconds: float,
) -> bool:
    """Visit the next connections of `pending` still in `connections`, for at most
    WALK_SLICE_CONNECTIONS of them or `seconds`; True once `pending` is exhausted."""
    deadline = time.perf_counter() + seconds
    for _ in range(WALK_SLICE_CONNECTIONS):
        protocol = next(pending, None)
        if protocol is None:
            return True
        details = connections.get(protocol)
        if details is not None:
            visit(protocol, details)
        if time.perf_counter() > deadline:
            break
    return False


BATCH_WAIT_SECONDS = 0.05


class BackgroundStream:
    """A text stream written from a thread of its own: a full pipe to the log collector blocks
    that thread, never the event loop. Lines are written in batches, one at most every 50 ms (a
    wake-up per line would take the GIL from the loop per line). At most `max_lines` wait (past that a line is dropped
    and counted in `dropped`); what waits is written at exit."""

    def __init__(self, stream: Any, max_lines: int = 100_000) -> None:
        self.stream = stream
        self.dropped = 0
        self._lines: queue.Queue[str] = queue.Queue(maxsize=max_lines)
        self._lock = threading.Lock()  # one writer at a time: the thread, or the exit's drain
        threading.Thread(target=self._write_forever, name="access-log", daemon=True).start()
        atexit.register(self.drain)

    def write(self, text: str) -> None:
        try:
            self._lines.put_nowait(text)
        except queue.Full:
            self.dropped += 1

    def flush(self) -> None:
        """Nothing to do on the loop: the thread flushes after each batch."""

    def drain(self) -> None:
        """Write every waiting line now."""
        with self._lock:
            batch: list[str] = []
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._lines.get_nowait())
            if batch:
                self._write(batch)

    def _write_forever(self) -> None:
        while True:
            first = self._lines.get()
            time.sleep(BATCH_WAIT_SECONDS)
            with self._lock:
                batch = [first]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 10_000:
                        batch.append(self._lines.get_nowait())
                self._write(batch)

    def _write(self, batch: list[str]) -> None:
        try:
            self.stream.write("".join(batch))
            self.stream.flush()
        except Exception:  # a closed stream at exit: the lines are lost, the server is not
            logger.debug("Could not write the access log", exc_info=True)
