"""Single-flight reads: callers at the same moment share one database read.

After a web process restarts or Redis comes back, thousands of sockets ask for the same
snapshot at once; one query each would queue thousands of queries on the thread pool and
the database. A caller joins a read only if that read *started after it asked*: the consumer
subscribes before asking, so a shared snapshot can never predate the subscription and hide
an update the socket was not sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from itertools import count
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._order = count()
        self._current: tuple[int, asyncio.Future[T], asyncio.AbstractEventLoop] | None = None
        self.reads = 0

    async def get(self) -> T:
        asked = next(self._order)
        loop = asyncio.get_running_loop()
        while True:
            current = self._current
            if current is not None and current[2] is not loop:
                current = self._current = None  # a read of another (finished) event loop
            if current is not None and current[0] > asked:
                return await asyncio.shield(current[1])
            if current is not None and not current[1].done():
                await asyncio.wait([current[1]])  # started before we asked: wait, then read anew
                continue
            started = next(self._order)
            future = asyncio.ensure_future(self._read())
            self._current = (started, future, loop)
            self.reads += 1
            return await asyncio.shield(future)
