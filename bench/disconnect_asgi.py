"""The application of `bench_disconnect`'s Daphne: the project's own, plus a probe of its event loop.

`daphne bench.disconnect_asgi:application` serves `config.asgi.application` unchanged and, from
the first connection on, runs a ticker on Daphne's event loop that notes how late each 5 ms tick
wakes up: a tick that wakes up late is the loop stalled, and nothing else (no frame, no heartbeat,
no handshake) ran meanwhile either. `GET /bench/loop-stalls` answers the longest stall since the
previous read, in milliseconds, and starts a new window. `GET /bench/loop-slow` answers what
made the stalls since its previous read: every loop callback that ran longer than 20 ms (what it
was, and how long), the garbage collections longer than 5 ms, and the time Daphne's two periodic
walks over every connection took (`application_checker` each second, `timeout_checker` every 2 s).
Nothing of this is in the project's code.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections import Counter
from typing import Any

from config.asgi import application as oddstream

TICK_SECONDS = 0.005
STALLS_PATH = "/bench/loop-stalls"


class LoopStalls:
    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def ensure_started(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.longest = max(self.longest, loop.time() - before - TICK_SECONDS)
            self.ticks += 1

    def read(self) -> dict[str, float]:
        window = {"longest_stall_ms": self.longest * 1000, "ticks": self.ticks}
        self.longest, self.ticks = 0.0, 0
        return window


stalls = LoopStalls()

SLOW_CALLBACK_SECONDS = 0.020
SLOW_COLLECTION_SECONDS = 0.005


def describe(callback: Any, args: tuple[Any, ...]) -> str:
    """What a loop callback is: a task's coroutine, a Twisted reader's protocol, or its name."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return f"task {getattr(coro, '__qualname__', coro)}"
    name = getattr(callback, "__qualname__", repr(callback))
    if args and name.endswith("_readOrWrite"):
        protocol = getattr(args[0], "protocol", None)
        return f"{name} {type(protocol).__name__ if protocol is not None else type(args[0]).__name__}"
    return str(name)


class SlowWork:
    """Loop callbacks, garbage collections and Daphne's connection walks that took long."""

    def __init__(self) -> None:
        self.callbacks: list[tuple[float, str, float]] = []  # (ms, what, of which GC ms)
        self.collections: Counter[int] = Counter()  # generation -> collections over the threshold
        self.collection_ms: list[tuple[int, float]] = []
        self.walks: dict[str, list[float]] = {"application_checker": [], "timeout_checker": [], "sliced": []}
        self._gc_started = 0.0
        self._gc_in_callback = 0.0

    def install(self) -> None:
        handle_run = asyncio.events.Handle._run
        probe = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            probe._gc_in_callback = 0.0
            callback, args = handle._callback, handle._args
            started = time.perf_counter()
            handle_run(handle)
            took = time.perf_counter() - started
            if took > SLOW_CALLBACK_SECONDS:
                what = describe(callback, args)
                probe.callbacks.append((took * 1000, what, probe._gc_in_callback * 1000))

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._collection)
        from daphne.server import Server

        for name in ("application_checker", "timeout_checker"):
            self._time_walk(Server, name)
        self._time_slices()

    def _time_slices(self) -> None:
        """The slices of `realtime.daphne_server.SlicedServer`'s walks (both walks together)."""
        from realtime import daphne_server

        walk_slice = daphne_server.walk_slice
        probe = self

        def timed(*args: Any) -> bool:
            started = time.perf_counter()
            try:
                return walk_slice(*args)
            finally:
                probe.walks["sliced"].append((time.perf_counter() - started) * 1000)

        daphne_server.walk_slice = timed  # type: ignore[assignment]

    def _time_walk(self, server_class: type, name: str) -> None:
        walk = getattr(server_class, name)
        probe = self

        def timed(server: Any) -> None:
            started = time.perf_counter()
            try:
                walk(server)
            finally:
                probe.walks[name].append((time.perf_counter() - started) * 1000)

        setattr(server_class, name, timed)

    def _collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        self._gc_in_callback += took
        if took > SLOW_COLLECTION_SECONDS:
            self.collections[info["generation"]] += 1
            self.collection_ms.append((info["generation"], took * 1000))

    def read(self) -> dict[str, Any]:
        kinds: Counter[str] = Counter()
        for _, what, _ in self.callbacks:
            kinds[what] += 1
        window = {
            "slowest_callbacks": sorted(self.callbacks, reverse=True)[:15],
            "slow_callbacks_by_kind": kinds.most_common(15),
            "slow_callbacks_total_ms": sum(ms for ms, _, _ in self.callbacks),
            "slow_collections": sorted(self.collection_ms, key=lambda c: -c[1])[:10],
            "slow_collections_total_ms": sum(ms for _, ms in self.collection_ms),
            "walks_longest_ms": {name: max(took, default=0.0) for name, took in self.walks.items()},
            "walks_total_ms": {name: sum(took) for name, took in self.walks.items()},
        }
        self.__init__()  # type: ignore[misc]
        return window


slow_work = SlowWork()
slow_work.install()
SLOW_PATH = "/bench/loop-slow"


async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    stalls.ensure_started()
    if scope["type"] == "http" and scope["path"] == STALLS_PATH:
        body = json.dumps(stalls.read()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return None
    if scope["type"] == "http" and scope["path"] == SLOW_PATH:
        body = json.dumps(slow_work.read()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return None
    return await oddstream(scope, receive, send)
