"""Bets at a steady rate over HTTP, and sockets of the real JS client, for the fault tests."""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.integration.harness import new_bet_key

HERE = Path(__file__).resolve().parent
SELECTIONS = ("home", "draw", "away")


class BetLoad:
    """Places `rate` bets a second, round-robin over `matches`, from a few threads so that a
    slow request (a dependency down) does not slow the arrival rate; records every answer."""

    def __init__(self, base_urls: list[str], token: str, matches: list[int], rate: float) -> None:
        self.base_urls = base_urls
        self.headers = {"Authorization": f"Bearer {token}"}
        self.matches = matches
        self.rate = rate
        self.statuses: collections.Counter[int] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.server_errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> BetLoad:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    @property
    def accepted(self) -> int:
        return self.statuses[201]

    def summary(self) -> dict[str, Any]:
        return {"statuses": dict(self.statuses), "errors": dict(self.errors)}

    def _run(self) -> None:
        clients = [httpx.Client(base_url=url, headers=self.headers, timeout=10) for url in self.base_urls]
        with ThreadPoolExecutor(max_workers=8) as pool:
            started = time.monotonic()
            number = 0
            while not self._stop.is_set():
                pause = started + number / self.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(self._place, clients[number % len(clients)], number)
                number += 1
        for client in clients:
            client.close()

    def _place(self, client: httpx.Client, number: int) -> None:
        body = {
            "match": self.matches[number % len(self.matches)],
            "selection": SELECTIONS[number % 7 % 3],
            "stake": "1.00",
            "accept_odds_change": "any",
        }
        try:
            reply = client.post("/api/bets/", json=body, headers=new_bet_key())
        except httpx.HTTPError as error:
            with self._lock:
                self.errors[type(error).__name__] += 1
            return
        with self._lock:
            self.statuses[reply.status_code] += 1
            if reply.status_code == 503 and "Retry-After" not in reply.headers:
                self.errors["503 without Retry-After"] += 1
            if reply.status_code not in (201, 503) and len(self.server_errors) < 5:
                self.server_errors.append(f"{reply.status_code}: {reply.text[:300]}")


def node_with_websocket() -> list[str] | None:
    """The node command that has a global WebSocket (built in from node 22; behind a flag in 20 and 21)."""
    node = shutil.which("node")
    if node is None:
        return None
    for flags in ([], ["--experimental-websocket"]):
        probe = subprocess.run(
            [node, *flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return [node, *flags]
    return None


class OddsWatchers:
    """`count` sockets of frontend/static's OddsStream, in one node process, on `url`."""

    def __init__(self, node: list[str], url: str, count: int, ready_timeout: float = 30, batch: int = 0) -> None:
        """`batch`: open the sockets this many at a time, each batch once the previous one has its
        snapshots (0: all at once)."""
        self.process = subprocess.Popen(
            [*node, str(HERE / "odds_watchers.mjs"), url, str(count), str(batch or count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: collections.deque[str] = collections.deque()
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout=ready_timeout):
            report = self.report() if self.process.poll() is None else {}
            self.process.kill()  # the caller never gets the object to close
            self.process.wait(timeout=5)
            raise RuntimeError(f"The watchers did not get their snapshots: {report}\n" + "\n".join(self._lines))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == "ready":
                self._ready.set()
            else:
                self._lines.append(line.strip())

    def report(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self._lines.clear()
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            while self._lines:
                line = self._lines.popleft()
                if line.startswith("{"):
                    report: dict[str, Any] = json.loads(line)
                    return report
            time.sleep(0.02)
        raise RuntimeError("The watchers did not report")

    def on_versions(self, versions: dict[int, int]) -> bool:
        """Whether every socket is open and holds exactly these versions."""
        report = self.report()
        if report["open"] != report["sockets"]:
            return False
        seen = report["versions"]
        return all(
            str(match) in seen
            and seen[str(match)]["sockets"] == report["sockets"]
            and seen[str(match)]["min"] == version
            for match, version in versions.items()
        )

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=5)
