"""A Redis Sentinel topology of its own for a test: a primary, a replica and three sentinels, each a
`redis-server` on a free port of 127.0.0.1 with its files in a temporary directory.

The sentinels judge the primary down after DOWN_AFTER_MS without an answer and need two of
three to agree (quorum 2), as a production deployment of three sentinels would; only the delay
is shorter, so a test's failover takes a few seconds.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from workers.embedded_redis import free_port, server_binary

MASTER_NAME = "oddstream"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


def _address(reply: tuple[bytes | str, int | str]) -> tuple[str, int]:
    host = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
    return host, int(reply[1])


class SentinelTopology:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="oddstream-sentinel-"))
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # --- What clients are given -------------------------------------------------
    @property
    def sentinels(self) -> str:
        """REDIS_SENTINELS: "host:port,host:port,host:port"."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def master_address(self) -> tuple[str, int] | None:
        """The primary the sentinels name now (the first that answers)."""
        for port in self.sentinel_ports:
            try:
                client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
                address = client.sentinel_get_master_addr_by_name(MASTER_NAME)
            except redis.RedisError:
                continue
            if address:
                return _address(address)
        return None

    # --- Lifecycle --------------------------------------------------------------
    def _server(self, name: str, port: int, *extra: str) -> None:
        data = self.directory / name
        data.mkdir(exist_ok=True)
        args = [server_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data)]
        args += ["--save", "", "--appendonly", "no", *extra]
        self.processes[name] = subprocess.Popen(args, stdout=subprocess.DEVNULL)

    def _sentinel(self, name: str, port: int) -> None:
        # A sentinel rewrites its configuration file (what it learnt): one writable file each.
        config = self.directory / f"{name}.conf"
        config.write_text(
            f"bind 127.0.0.1\nport {port}\ndir {self.directory}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        self.processes[name] = subprocess.Popen([server_binary(), str(config), "--sentinel"], stdout=subprocess.DEVNULL)

    def start(self, timeout: float = 20) -> None:
        """Start every process and wait until the replica is in sync and every sentinel knows
        the primary and its replica (else a kill would find no one to promote)."""
        self._server("primary", self.primary_port)
        self._server("replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.primary_port))
        for number, port in enumerate(self.sentinel_ports):
            self._sentinel(f"sentinel-{number}", port)
        deadline = time.monotonic() + timeout
        while not self._ready():
            dead = [name for name, process in self.processes.items() if process.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The Sentinel topology did not come up (exited: {dead})")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            info = redis.Redis(port=self.replica_port, socket_timeout=1).info("replication")
            if info.get("master_link_status") != "up":
                return False
            for port in self.sentinel_ports:
                client = redis.Redis(port=port, socket_timeout=1)
                master = client.sentinel_master(MASTER_NAME)
                if int(master.get("num-slaves", 0)) < 1 or int(master.get("num-other-sentinels", 0)) < 2:
                    return False
        except redis.RedisError:
            return False
        return True

    def kill_primary(self) -> None:
        """SIGKILL the process that is primary now: no goodbye to its clients or its replica."""
        address = self.master_address()
        assert address is not None, "no sentinel names a primary"
        name = "primary" if address[1] == self.primary_port else "replica"
        self.processes[name].kill()
        self.processes[name].wait(timeout=10)

    def wait_for_promotion(self, old: tuple[str, int], timeout: float = 30) -> float | None:
        """Seconds until every sentinel names a primary other than `old`, or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            named: set[tuple[str, int] | None] = set()
            for port in self.sentinel_ports:
                with contextlib.suppress(redis.RedisError):
                    address = redis.Redis(port=port, socket_timeout=1).sentinel_get_master_addr_by_name(MASTER_NAME)
                    named.add(_address(address) if address else None)
            if len(named) == 1 and None not in named and old not in named:
                new = next(iter(named))
                assert new is not None
                with contextlib.suppress(redis.RedisError):
                    role = redis.Redis(host=new[0], port=new[1], socket_timeout=1).info("replication")["role"]
                    if role == "master":
                        return time.monotonic() - started
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def running_sentinel_topology() -> Iterator[SentinelTopology]:
    topology = SentinelTopology()
    topology.start()
    try:
        yield topology
    finally:
        topology.stop()
