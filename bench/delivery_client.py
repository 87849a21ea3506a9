"""One load-generator process of `bench_delivery`: many WebSocket clients on one asyncio loop.

`python -m bench.delivery_client PORT PATH COUNT` opens COUNT sockets to 127.0.0.1:PORT,
prints `ready <connected> <failed>`, then obeys lines on stdin:
`start` (reset counters, start measuring), `report <json of the final versions>` (print
one JSON line of results), `quit`.

The clients are a minimal WebSocket implementation over asyncio protocols rather than a
full library, so that one client process costs little CPU per received frame and the load
generator does not become the bottleneck; each process reports its own CPU time and the
worst lag of its event loop, which is how the run shows whether it kept up.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import sys
import threading
import time
from typing import Any

LATENCY_SAMPLES_MAX = 200_000
# The three fields a client needs, read without a full JSON parse (a third of the cost), in
# both designs' encodings (compact, and json.dumps' default ", " / ": ").
FIELDS = re.compile(rb'"match": ?(\d+), ?"version": ?(\d+).*"sent": ?([0-9.e+]+)')


class Stats:
    def __init__(self) -> None:
        self.received = 0
        self.latencies: list[float] = []
        self.sample_every = 1
        self.measuring = False

    def record(self, latency: float) -> None:
        self.received += 1
        if self.received % self.sample_every == 0:
            self.latencies.append(latency)
            if len(self.latencies) >= LATENCY_SAMPLES_MAX:
                self.latencies = self.latencies[::2]
                self.sample_every *= 2


class Client(asyncio.Protocol):
    def __init__(self, stats: Stats, path: str, port: int) -> None:
        self.stats = stats
        self.path = path
        self.port = port
        self.buffer = bytearray()
        self.open = False
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.versions: dict[int, int] = {}  # match -> newest version received
        self.received_at: dict[int, float] = {}  # match -> when that version arrived
        self.closed_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        self.open = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.open:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = b" 101 " in bytes(self.buffer[:end].split(b"\r\n", 1)[0])
            del self.buffer[: end + 4]
            self.open = ok
            if not self.opened.done():
                self.opened.set_result(ok)
            if not ok:
                assert self.transport is not None
                self.transport.close()
                return
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        position = 0
        size = len(buffer)
        while size - position >= 2:
            opcode = buffer[position] & 0x0F
            length = buffer[position + 1] & 0x7F
            start = position + 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                start = position + 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                start = position + 10
            if size < start + length:
                break
            payload = bytes(buffer[start : start + length])
            position = start + length
            self._frame(opcode, payload)
        del buffer[:position]

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 1:
            found = FIELDS.search(payload)
            if found is not None:
                now = time.time()
                match, version = int(found[1]), int(found[2])
                if self.stats.measuring:
                    self.stats.record(now - float(found[3]))
                if version > self.versions.get(match, 0):
                    self.versions[match] = version
                    self.received_at[match] = now
        elif opcode == 9:  # ping: answer with a masked pong
            self._send(0xA, payload)
        elif opcode == 8:
            self.closed_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            assert self.transport is not None
            self.transport.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None and len(payload) < 126
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


async def open_clients(
    port: int,
    path: str,
    count: int,
    stats: Stats,
    client_class: type[Client] = Client,
    paths: list[str] | None = None,
    concurrency: int = 50,
) -> tuple[list[Client], int]:
    """Open `count` sockets on `path`, or one socket per entry of `paths` when given, at most
    `concurrency` handshakes at a time (a ramp, not a thundering herd of handshakes)."""
    loop = asyncio.get_running_loop()
    clients: list[Client] = []
    failed = 0
    limit = asyncio.Semaphore(concurrency)

    async def one(path: str) -> None:
        nonlocal failed
        async with limit:
            for attempt in range(4):
                transport: asyncio.BaseTransport | None = None
                try:
                    transport, client = await loop.create_connection(
                        lambda: client_class(stats, path, port), "127.0.0.1", port
                    )
                    if await asyncio.wait_for(client.opened, 30):
                        clients.append(client)
                        return
                except (OSError, TimeoutError):
                    # A handshake given up on is closed: left open, the server would count a
                    # socket this client no longer holds.
                    if isinstance(transport, asyncio.Transport):
                        transport.abort()
                await asyncio.sleep(0.2 * (attempt + 1))
            failed += 1

    await asyncio.gather(*(one(each) for each in (paths if paths is not None else [path] * count)))
    return clients, failed


def stdin_commands() -> asyncio.Queue[str]:
    """The lines of stdin as they come, read in a thread; `quit` when stdin closes."""
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    return commands


async def main(port: int, path: str, count: int) -> None:
    stats = Stats()
    clients, failed = await open_clients(port, path, count, stats)
    print(f"ready {len(clients)} {failed}", flush=True)
    commands = stdin_commands()
    lag = {"max": 0.0}

    async def watch_lag() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.02)
            if stats.measuring:
                lag["max"] = max(lag["max"], time.monotonic() - before - 0.02)

    watcher = asyncio.create_task(watch_lag())
    cpu_start = 0.0
    while True:
        command = await commands.get()
        if command == "start":
            stats.received, stats.latencies, stats.measuring = 0, [], True
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu_start = usage.ru_utime + usage.ru_stime
        elif command.startswith("report"):
            stats.measuring = False
            usage = resource.getrusage(resource.RUSAGE_SELF)
            final: dict[str, Any] = json.loads(command.split(" ", 1)[1])
            versions = {int(m): v for m, v in final["versions"].items()}
            sent_at = {int(m): t for m, t in final["sent"].items()}
            converged, delays = 0, []
            for client in clients:
                if all(client.versions.get(m, 0) >= v for m, v in versions.items()):
                    converged += 1
                    delays.append(max(client.received_at[m] - sent_at[m] for m in versions))
            print(
                json.dumps(
                    {
                        "sockets": len(clients),
                        "failed": failed,
                        "received": stats.received,
                        "latencies": stats.latencies,
                        "sample_every": stats.sample_every,
                        "converged": converged,
                        "convergence_delays": delays,
                        "still_open": sum(1 for c in clients if c.open),
                        "closed_codes": sorted({c.closed_code for c in clients if c.closed_code is not None}),
                        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_start,
                        "max_loop_lag": lag["max"],
                    }
                ),
                flush=True,
            )
        elif command == "quit":
            break
    watcher.cancel()
    for client in clients:
        if client.transport is not None:
            client.transport.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
