"""A seeded WebSocket fuzzer, and the well-behaved clients whose latency it must not hurt.

The fuzzer speaks raw TCP, so it can send what no WebSocket library would: frames with reserved
opcodes or RSV bits, unmasked frames, continuations with no start, control frames over 125 bytes,
invalid UTF-8, binary frames, lengths that lie, frames far over the server's limit, floods
without reading, handshakes that trickle in byte by byte or stop halfway, and connections left
half-open then reset. Everything comes from one `random.Random(seed)`, and every run is bounded
by a number of connections and a number of seconds.

Run it as a process, so its CPU does not slow the clients that measure the server:

    python -m tests.integration.wsfuzz --port 8000 --seed 7 --seconds 10 --paths /ws/odds/ /ws/blog/
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# WebSocket opcodes (RFC 6455 §5.2): 3-7 and 0xB-0xF are reserved.
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RESERVED_OPCODES = [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]
SERVER_MAX_PAYLOAD = 64 * 1024  # settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE (config.daphne)
ACTIONS = ["subscribe", "unsubscribe", "resync", "ping", "", "SUBSCRIBE", None, 7]


def mask(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return payload
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def client_frame(
    rng: random.Random,
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    declared_length: int | None = None,
) -> bytes:
    """One client-to-server frame; `declared_length` may lie about the payload's size."""
    length = len(payload) if declared_length is None else declared_length
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    key = rng.randbytes(4)
    return header + key + mask(payload, key)


def handshake(rng: random.Random, path: str, port: int, *, version: str = "13") -> bytes:
    key = base64.b64encode(rng.randbytes(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n"
    ).encode()


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**70), rng.randrange(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, 1e308, -0.0, 3.14])
    if kind == 4:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(0, 20)))
    if kind in (5, 6):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 6))]
    return {str(random_json(rng, depth + 1))[:20]: random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def random_action(rng: random.Random) -> bytes:
    """A frame that looks like the protocol's, with random (mostly wrong) values."""
    message: dict[str, Any] = {"action": rng.choice(ACTIONS)}
    if rng.random() < 0.7:
        message["matches"] = rng.choice(
            [[1, 2], list(range(rng.randrange(0, 400))), [-1], ["1"], random_json(rng), 10**20, [10**20]]
        )
    if rng.random() < 0.5:
        message["match"] = random_json(rng)
        message["since"] = random_json(rng)
    return json.dumps(message).encode()


def nested_json(rng: random.Random) -> bytes:
    """Arrays or objects nested far deeper than any frame of the protocol, within 4 KiB: Python's
    JSON parser recurses once per level, and a few thousand levels raise RecursionError."""
    depth = rng.choice([33, 100, 1000, 2000])
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * min(depth, 800) + b"1" + b"}" * min(depth, 800)


def hostile_message(rng: random.Random, kind: int) -> tuple[int, bytes]:
    """(opcode, payload) of a whole message the server's WebSocket layer passes on to the
    consumer: the kinds of `MESSAGE_KINDS`."""
    if kind == 0:
        return TEXT, random_action(rng)
    if kind == 1:
        return TEXT, json.dumps(random_json(rng)).encode()
    if kind == 2:
        return BINARY, rng.randbytes(rng.randrange(0, 2000))
    if kind == 3:
        return TEXT, b"x" * rng.choice([4096, 4097, 20000])  # the consumer's 4 KiB limit
    if kind == 4:
        return TEXT, json.dumps({"action": "subscribe", "matches": [1]}).encode()
    if kind == 5:
        return TEXT, nested_json(rng)
    return TEXT, b'{"action": "ping"}'


MESSAGE_KINDS = range(7)


def random_frame(rng: random.Random) -> bytes:
    """One malformed or random frame (most are refused by the protocol layer or the consumer)."""
    kind = rng.randrange(9 + len(MESSAGE_KINDS))
    if kind == 0:
        return client_frame(rng, TEXT, rng.randbytes(rng.randrange(1, 200)))  # mostly invalid UTF-8
    if kind == 1:
        return client_frame(rng, rng.choice(RESERVED_OPCODES), rng.randbytes(rng.randrange(0, 50)))
    if kind == 2:
        return client_frame(rng, TEXT, b'{"action": "ping"}', rsv=rng.randrange(1, 8))
    if kind == 3:
        return client_frame(rng, TEXT, b'{"action": "ping"}', masked=False)
    if kind == 4:
        return client_frame(rng, CONTINUATION, rng.randbytes(rng.randrange(0, 100)))
    if kind == 5:  # a fragmented message, sometimes never finished
        start = client_frame(rng, TEXT, b'{"action": ', fin=False)
        return start + (client_frame(rng, CONTINUATION, b'"ping"}') if rng.random() < 0.5 else b"")
    if kind == 6:
        return client_frame(rng, PING, rng.randbytes(rng.choice([0, 10, 125, 126, 300])))
    if kind == 7:
        return client_frame(rng, PONG, rng.randbytes(rng.randrange(0, 50)))
    if kind == 8:  # a nested message in fragments: the server reassembles it first
        opcode, payload = TEXT, nested_json(rng)
        middle = len(payload) // 2
        return client_frame(rng, opcode, payload[:middle], fin=False) + client_frame(
            rng, CONTINUATION, payload[middle:]
        )
    opcode, payload = hostile_message(rng, kind - 9)
    return client_frame(rng, opcode, payload)


@dataclass
class Tally:
    connections: Counter[str] = field(default_factory=Counter)
    frames_sent: int = 0
    bytes_sent: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: dict[str, Any]) -> None:
        self.connections.update(other["connections"])
        self.frames_sent += other["frames_sent"]
        self.bytes_sent += other["bytes_sent"]
        self.errors.update(other["errors"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "connections": dict(self.connections),
            "frames_sent": self.frames_sent,
            "bytes_sent": self.bytes_sent,
            "errors": dict(self.errors),
        }


class Fuzzer:
    def __init__(self, port: int, paths: list[str], seed: int, deadline: float) -> None:
        self.port = port
        self.paths = paths
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.tally = Tally()
        self.held: list[asyncio.StreamWriter] = []

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), timeout=5)

    def send(self, writer: asyncio.StreamWriter, data: bytes, frames: int = 1) -> None:
        writer.write(data)
        self.tally.frames_sent += frames
        self.tally.bytes_sent += len(data)

    async def upgrade(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> bool:
        writer.write(handshake(self.rng, path, self.port))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        return head.startswith(b"HTTP/1.1 101")

    async def drain_for(self, reader: asyncio.StreamReader, seconds: float) -> None:
        """Read what the server answers for a while (errors, pongs, its close frame)."""
        end = time.monotonic() + seconds
        with contextlib.suppress(Exception):
            while time.monotonic() < end:
                if not await asyncio.wait_for(reader.read(65536), timeout=max(0.01, end - time.monotonic())):
                    return

    # --- Scenarios: each opens one connection and does one kind of harm --------------------
    async def random_frames(self, path: str) -> None:
        reader, writer = await self.open()
        if await self.upgrade(reader, writer, path):
            for _ in range(self.rng.randrange(5, 40)):
                self.send(writer, random_frame(self.rng))
                await writer.drain()
                if self.rng.random() < 0.3:
                    await self.drain_for(reader, 0.01)
            await self.drain_for(reader, 0.2)
        abort(writer)

    async def oversized(self, path: str) -> None:
        reader, writer = await self.open()
        if await self.upgrade(reader, writer, path):
            kind = self.rng.randrange(4)
            if kind == 0:  # a length of 2^62 bytes, then some of them
                self.send(writer, client_frame(self.rng, TEXT, b"x" * 65536, declared_length=2**62))
            elif kind == 1:  # a whole frame over the limit
                self.send(writer, client_frame(self.rng, BINARY, self.rng.randbytes(SERVER_MAX_PAYLOAD + 1)))
            elif kind == 2:  # a message over the limit in small fragments
                chunk = b"y" * 8192
                frames = [client_frame(self.rng, TEXT, chunk, fin=False)]
                frames += [client_frame(self.rng, CONTINUATION, chunk, fin=False) for _ in range(9)]
                self.send(writer, b"".join(frames), frames=len(frames))
            else:  # a megabyte of text
                self.send(writer, client_frame(self.rng, TEXT, b"z" * 1024 * 1024))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            await self.drain_for(reader, 0.3)
        abort(writer)

    async def flood(self, path: str) -> None:
        reader, writer = await self.open()
        if await self.upgrade(reader, writer, path):
            frames = [random_frame(self.rng) if self.rng.random() < 0.3 else PING_ACTION for _ in range(300)]
            self.send(writer, b"".join(frames), frames=len(frames))  # without reading a thing
            with contextlib.suppress(ConnectionError):
                await asyncio.wait_for(writer.drain(), timeout=2)
            await asyncio.sleep(0.2)
        abort(writer)

    async def half_open(self, path: str) -> None:
        _reader, writer = await self.open()
        kind = self.rng.randrange(3)
        if kind == 1:  # half a handshake
            request = handshake(self.rng, path, self.port)
            writer.write(request[: self.rng.randrange(1, len(request) - 1)])
        elif kind == 2:  # a full handshake, then silence, never reading what is sent
            writer.write(handshake(self.rng, path, self.port))
        # kind 0: connect and say nothing. Hold it to the end, then reset it (no FIN).
        self.held.append(writer)

    async def trickle(self, path: str) -> None:
        reader, writer = await self.open()
        request = handshake(self.rng, path, self.port)
        for i in range(len(request)):
            writer.write(request[i : i + 1])
            await writer.drain()
            await asyncio.sleep(self.rng.uniform(0.001, 0.02))
            if not self.left():
                break
        with contextlib.suppress(Exception):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            if head.startswith(b"HTTP/1.1 101"):
                for byte in PING_ACTION:  # and one frame, byte by byte
                    writer.write(bytes([byte]))
                    await asyncio.sleep(0.005)
                self.tally.frames_sent += 1
                await self.drain_for(reader, 0.2)
        abort(writer)

    async def bad_upgrade(self, path: str) -> None:
        reader, writer = await self.open()
        kind = self.rng.randrange(4)
        if kind == 0:
            writer.write(self.rng.randbytes(self.rng.randrange(1, 4000)))
        elif kind == 1:
            writer.write(handshake(self.rng, path, self.port, version="99"))
        elif kind == 2:
            writer.write(handshake(self.rng, path, self.port).replace(b"\r\n\r\n", b"\r\nX-Long: " + b"a" * 70000))
            writer.write(b"\r\n\r\n")
        else:
            writer.write(handshake(self.rng, path + "%00../" + "x" * 3000, self.port))
        await self.drain_for(reader, 0.3)
        abort(writer)

    async def run(self, max_connections: int, concurrency: int) -> Tally:
        scenarios: list[tuple[str, Callable[[str], Awaitable[None]], int]] = [
            ("random_frames", self.random_frames, 8),
            ("oversized", self.oversized, 2),
            ("flood", self.flood, 2),
            ("half_open", self.half_open, 2),
            ("trickle", self.trickle, 1),
            ("bad_upgrade", self.bad_upgrade, 2),
        ]
        names = [name for name, _, weight in scenarios for _ in range(weight)]
        by_name = {name: scenario for name, scenario, _ in scenarios}
        started = 0
        running: set[asyncio.Task[None]] = set()

        async def one(name: str, path: str) -> None:
            try:
                await asyncio.wait_for(by_name[name](path), timeout=max(0.1, self.left() + 1))
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self.tally.errors[type(exc).__name__] += 1

        while self.left() and started < max_connections:
            while len(running) >= concurrency:
                _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            name, path = self.rng.choice(names), self.rng.choice(self.paths)
            self.tally.connections[name] += 1
            started += 1
            running.add(asyncio.create_task(one(name, path)))
        if running:
            await asyncio.wait(running, timeout=self.left() + 5)
        for writer in self.held:
            abort(writer)
        return self.tally


PING_ACTION = client_frame(random.Random(0), TEXT, b'{"action": "ping"}')


def abort(writer: asyncio.StreamWriter) -> None:
    abort_transport(writer.transport)


def abort_transport(transport: asyncio.WriteTransport) -> None:
    """Reset the connection (SO_LINGER 0: an RST, no FIN), as a vanished client would."""
    with contextlib.suppress(OSError):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


# --- Well-behaved clients: the latency the fuzzing must not hurt ---------------------------
async def ping_round_trips(url: str, seconds: float, interval: float) -> list[float]:
    """Round trips (ms) of `ping` → `pong` on one socket, one every `interval` seconds."""
    import websockets

    samples: list[float] = []
    async with websockets.connect(url, open_timeout=10, max_size=2**20) as socket_:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sent = time.perf_counter()
            await socket_.send('{"action": "ping"}')
            while True:
                frame = json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))
                if frame.get("type") == "pong":
                    break
            samples.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(interval)
    return samples


async def bystanders(urls: list[str], seconds: float, interval: float) -> list[float]:
    results = await asyncio.gather(*(ping_round_trips(url, seconds, interval) for url in urls))
    return [sample for samples in results for sample in samples]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Watched:
    """What a fuzzing run did, and what the well-behaved clients and the server's RSS showed."""

    tally: dict[str, Any]
    quiet_ms: list[list[float]]  # per round
    during_ms: list[list[float]]
    rss_before: int
    rss_after: int

    def p99_ratios(self) -> list[float]:
        """Per round: the p99 with fuzzing over the p99 of the quiet window just before it."""
        return [percentile(d, 0.99) / percentile(q, 0.99) for q, d in zip(self.quiet_ms, self.during_ms, strict=True)]

    def median_p99_ratio(self) -> float:
        """The rounds' middle ratio: one window spoiled by a neighbour's burst of CPU on a
        shared machine does not decide."""
        ratios = sorted(self.p99_ratios())
        return ratios[len(ratios) // 2]

    def summary(self) -> str:
        tally = self.tally
        quiet = [sample for window in self.quiet_ms for sample in window]
        during = [sample for window in self.during_ms for sample in window]
        return (
            f"fuzz: {sum(tally['connections'].values())} connections {tally['connections']}, "
            f"{tally['frames_sent']} frames, {tally['bytes_sent'] / 1e6:.1f} MB sent, "
            f"client-side errors {tally['errors']}\n"
            f"Daphne RSS: {self.rss_before / 2**20:.1f} MiB before, {self.rss_after / 2**20:.1f} MiB after\n"
            f"ping p50/p99 (ms) without fuzzing {percentile(quiet, 0.5):.1f}/{percentile(quiet, 0.99):.1f} "
            f"({len(quiet)} samples), with fuzzing {percentile(during, 0.5):.1f}/{percentile(during, 0.99):.1f} "
            f"({len(during)} samples); p99 ratio per round "
            f"{', '.join(f'{ratio:.2f}' for ratio in self.p99_ratios())}, median {self.median_p99_ratio():.2f}"
        )


async def fuzz_while_watching(
    *,
    port: int,
    server_pid: int,
    paths: list[str],
    seed: int,
    rounds: int,
    window_seconds: float,
    max_connections: int,
    concurrency: int,
    clients_per_path: int,
    ping_interval: float = 0.2,
) -> Watched:
    """Time clients' pings in alternating windows without and with a fuzzing process (the
    same number of each, so a machine that gets busier or quieter meanwhile weighs on both
    sides alike), and read the server's RSS before the first and after the last."""
    urls = [f"ws://127.0.0.1:{port}{path}" for path in paths for _ in range(clients_per_path)]
    await bystanders(urls, 2, ping_interval)  # warm up: imports, the hub, the caches
    rss_before = rss_bytes(server_pid)
    tally = Tally()
    quiet: list[list[float]] = []
    during: list[list[float]] = []
    for round_ in range(rounds):
        quiet.append(await bystanders(urls, window_seconds, ping_interval))
        fuzzer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.wsfuzz",
            *("--port", str(port), "--seed", str(seed + round_), "--seconds", str(window_seconds + 1.5)),
            *("--max-connections", str(max_connections // rounds), "--concurrency", str(concurrency)),
            *("--paths", *paths),
            cwd=Path(__file__).resolve().parents[2],
            stdout=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(0.5)  # measure while the fuzzing is in full swing
        during.append(await bystanders(urls, window_seconds, ping_interval))
        output, _ = await asyncio.wait_for(fuzzer.communicate(), timeout=window_seconds + 60)
        if fuzzer.returncode != 0:
            raise RuntimeError(f"the fuzzer failed with exit code {fuzzer.returncode}")
        tally.add(json.loads(output))
        await asyncio.sleep(1)  # its resets are processed before the next quiet window
    await asyncio.sleep(2)  # closes and resets are processed, buffers freed
    return Watched(tally.as_dict(), quiet, during, rss_before, rss_bytes(server_pid))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", nargs="+", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-connections", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    # An attacker has CPUs of their own: on a shared test machine the fuzzer yields the CPU to
    # the server and the measuring clients rather than slowing them down itself.
    os.nice(10)
    fuzzer = Fuzzer(args.port, args.paths, args.seed, time.monotonic() + args.seconds)
    tally = asyncio.run(fuzzer.run(args.max_connections, args.concurrency))
    json.dump(tally.as_dict(), sys.stdout)


if __name__ == "__main__":
    main()
