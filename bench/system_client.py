"""One socket process of `bench_system`: many /ws/odds/ sockets that note when each odds
frame arrives and how many bets of its match it counts.

`python -m bench.system_client PORT COUNT` opens COUNT sockets (the minimal client of
`bench.delivery_client`), prints `ready <connected> <failed>`, then obeys stdin lines:
`start` (forget what came before), `report <json {match: {sequence: commit epoch}}>`: one
JSON line with, for every bet and every socket, the delay from the bet's commit to the first
frame on that socket that counts it (sampled), and how many (bet, socket) pairs never got
one; `quit`.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from typing import Any

from bench.delivery_client import Client, Stats, open_clients, stdin_commands

SAMPLES_MAX = 100_000
ODDS = re.compile(rb'"type": ?"odds", ?"match": ?(\d+),.*"bets": ?(\d+)')


class OddsClient(Client):
    def __init__(self, stats: Stats, path: str, port: int) -> None:
        super().__init__(stats, path, port)
        self.frames: list[tuple[int, int, float]] = []  # (match, bets counted, received at)

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 1:
            found = ODDS.search(payload)
            if found is not None:
                self.frames.append((int(found[1]), int(found[2]), time.time()))
            return
        super()._frame(opcode, payload)


def commit_to_frame(clients: list[OddsClient], commits: dict[int, dict[int, float]]) -> dict[str, Any]:
    """Per (bet, socket): the first frame counting the bet, minus the bet's commit."""
    latencies: list[float] = []
    seen = 0
    expected = sum(len(c) for c in commits.values()) * len(clients)
    for client in clients:
        counted = dict.fromkeys(commits, 0)
        for match, bets, received in client.frames:
            committed = commits.get(match)
            if committed is None or bets <= counted[match]:
                continue
            for sequence in range(counted[match] + 1, bets + 1):
                at = committed.get(sequence)
                if at is not None:
                    latencies.append(received - at)
                    seen += 1
            counted[match] = bets
    if len(latencies) > SAMPLES_MAX:
        latencies = random.sample(latencies, SAMPLES_MAX)
    silent = sum(1 for client in clients if not client.frames)  # closed by the server, or never fed
    return {
        "latencies": latencies,
        "pairs": seen,
        "missing": expected - seen,
        "sockets": len(clients),
        "silent_sockets": silent,
    }


async def main(port: int, count: int) -> None:
    stats = Stats()
    opened, failed = await open_clients(port, "/ws/odds/", count, stats, OddsClient)
    clients = [c for c in opened if isinstance(c, OddsClient)]
    print(f"ready {len(clients)} {failed}", flush=True)
    commands = stdin_commands()
    while True:
        command = await commands.get()
        if command == "start":
            for client in clients:
                client.frames.clear()
        elif command.startswith("report"):
            raw = json.loads(command.split(" ", 1)[1])
            commits = {int(m): {int(s): t for s, t in bets.items()} for m, bets in raw.items()}
            print(json.dumps(commit_to_frame(clients, commits)), flush=True)
        elif command == "quit":
            break
    for client in clients:
        if client.transport is not None:
            client.transport.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
