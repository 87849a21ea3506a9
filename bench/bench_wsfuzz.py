"""WebSocket fuzzing, the longer run: one Daphne, every route, six rounds of 10 s of fuzzing at concurrency 16.

The same fuzzer and measurement as tests/integration/test_websocket_fuzz.py (which runs five rounds of 4 s in
CI), for the figures in docs/testing.md: connections and frames sent, Daphne's RSS before and
after, and the ping round trips of well-behaved clients on every endpoint without and with it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from tests.integration.harness import Stack
from tests.integration.test_websocket_fuzz import websocket_paths
from tests.integration.wsfuzz import fuzz_while_watching


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            stack.manage("migrate", "--noinput")
            stack.manage("load_demo_data")
            web, port = stack.start_web()
            watched = asyncio.run(
                fuzz_while_watching(
                    port=port,
                    server_pid=web.popen.pid,
                    paths=websocket_paths(match_id=1),
                    seed=1,
                    rounds=6,
                    window_seconds=10,
                    max_connections=30_000,
                    concurrency=16,
                    clients_per_path=4,
                )
            )
            print(watched.summary())
            print(f"Daphne still running: {web.popen.poll() is None}")
        finally:
            stack.close()
