"""One load-generator process of `bench_suspension`: many sockets on one match, each noting when
the suspension of a goal reaches it.

`python -m bench.suspension_client PORT PATH COUNT` opens COUNT sockets (the minimal clients of
`bench.delivery_client`), prints `ready <connected> <failed>`, then obeys lines on stdin:
`arm <goals>` (forget the last round; from now on note, per socket, the arrival time of the first
frame that says the match is suspended for a goal with `goals` goals in), `report` (print one
JSON line: the arrival times, wall clock, null for a socket that saw none), `quit`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bench.delivery_client import Client, Stats, open_clients, stdin_commands


class Round:
    def __init__(self) -> None:
        self.goals: int | None = None


class SuspensionClient(Client):
    round: Round
    arrived: float | None = None

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 1 and b"suspended" in payload and self.round.goals is not None and self.arrived is None:
            now = time.time()  # before the parse: the frame is here
            frame = json.loads(payload)
            if frame.get("status") == "suspended" and frame.get("suspended_reason") == "goal":
                score = (frame.get("live") or {}).get("score") or {}
                if score.get("home", 0) + score.get("away", 0) == self.round.goals:
                    self.arrived = now
            return
        super()._frame(opcode, payload)


async def main(port: int, path: str, count: int) -> None:
    shared = Round()

    class Bound(SuspensionClient):
        round = shared

    # A gentle ramp: on a loaded machine a herd of handshakes times out.
    clients, failed = await open_clients(port, path, count, Stats(), client_class=Bound, concurrency=10)
    sockets: list[SuspensionClient] = [client for client in clients if isinstance(client, SuspensionClient)]
    print(f"ready {len(sockets)} {failed}", flush=True)
    commands = stdin_commands()
    while True:
        command = await commands.get()
        if command.startswith("arm"):
            for client in sockets:
                client.arrived = None
            shared.goals = int(command.split()[1])
            print("armed", flush=True)
        elif command == "report":
            arrivals = [client.arrived for client in sockets]
            print(json.dumps({"arrivals": arrivals, "open": sum(1 for c in sockets if c.open)}), flush=True)
        elif command == "quit":
            break
    for client in sockets:
        if client.transport is not None:
            client.transport.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
