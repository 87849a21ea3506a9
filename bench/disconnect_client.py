"""One load-generator process of `bench_disconnect`: signed-in sockets that all drop at once.

`python -m bench.disconnect_client PORT PATHS` opens one socket per line of the file PATHS (each
path carries its user's `?token=`), with the minimal client of `bench.delivery_client`, prints
`ready <connected> <failed>`, then obeys lines on stdin: `status` prints one JSON line (sockets
still open, close codes of the others); `drop` resets every socket at once (an RST, as when a
proxy or a network link between the clients and the server goes away) and prints
`dropped <count>`; `quit`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from bench.delivery_client import Stats, open_clients, stdin_commands
from tests.integration.wsfuzz import abort_transport


async def main(port: int, paths: list[str]) -> None:
    # Signed-in handshakes read the database: fewer at a time than anonymous ones, so none
    # waits past Daphne's handshake timeout on a busy machine.
    clients, failed = await open_clients(port, "", len(paths), Stats(), paths=paths, concurrency=10)
    print(f"ready {len(clients)} {failed}", flush=True)
    commands = stdin_commands()
    while (command := await commands.get()) != "quit":
        if command == "status":
            closed = Counter(str(client.closed_code) for client in clients if not client.open)
            print(json.dumps({"open": sum(client.open for client in clients), "closed": closed}), flush=True)
        elif command == "drop":
            still_open = [client for client in clients if client.open and client.transport is not None]
            for client in still_open:
                assert client.transport is not None
                abort_transport(client.transport)
            print(f"dropped {len(still_open)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]).read_text().split()))
