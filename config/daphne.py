"""Daphne as every deployment starts it: `python -m config.daphne [Daphne's options] config.asgi:application`.

The Procfile, the Docker image, docker-compose.yml, the systemd unit and the integration tests'
harness all start the WebSocket server through this module, so the options every Oddstream
Daphne needs are written once, here, from the settings:

- `--websocket-max-message-size` and `--websocket-max-frame-size` from
  `DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE` / `DAPHNE_WEBSOCKET_MAX_FRAME_SIZE` (64 KiB): past that,
  Daphne fails the connection (1009) instead of reading the frame into memory. `manage.py
  runserver` reads the same two settings.
- behind the proxy (`--proxy-headers` given), `--proxy-headers-host` from
  `DAPHNE_PROXY_ADDRESS_HEADER` (X-Real-IP, which nginx sets to the connection's address): left
  to itself Daphne takes the leftmost X-Forwarded-For entry, which the client writes, so a
  client could spend another address's per-address socket cap and escape its own.
- the event loop: at most `REALTIME_LOOP_MAX_EVENTS` ready sockets a turn (`realtime.eventloop`),
  so a mass disconnect is spread over many short turns instead of stalling the loop for seconds.
- the server: Daphne's, with its periodic walks over every connection (reaping finished
  application instances each second, timeouts every 2 s) done a slice of at most
  `REALTIME_WALK_SLICE_MS` per loop turn (`realtime.daphne_server.SlicedServer`), not in one
  callback; `0` keeps Daphne's own walks.

Options given on the command line come after these, so one given there wins (Daphne's parser
keeps the last). The rest is Daphne's own command line, run in this process.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings

from realtime.eventloop import install_reactor

ASGI_SERVER_FLAG = "ODDSTREAM_ASGI_SERVER"


def daphne_args(argv: list[str]) -> list[str]:
    """Daphne's command line: the project's options, then `argv`."""
    behind_proxy = ["--proxy-headers-host", settings.DAPHNE_PROXY_ADDRESS_HEADER] if "--proxy-headers" in argv else []
    return [
        f"--websocket-max-message-size={settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE}",
        f"--websocket-max-frame-size={settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE}",
        *behind_proxy,
        *argv,
    ]


def event_loop_install() -> None:
    """Run Twisted's reactor, and so Daphne, on a loop that takes at most
    REALTIME_LOOP_MAX_EVENTS ready sockets a turn (0: asyncio's own loop)."""
    if settings.REALTIME_LOOP_MAX_EVENTS > 0:
        install_reactor(settings.REALTIME_LOOP_MAX_EVENTS)


def main(argv: list[str] | None = None) -> None:
    # As config.asgi: a server started without settings runs the production ones.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    # Read by the settings, which load below (event_loop_install) before Daphne's own modules
    # are imported: this process serves ASGI, so no persistent database connections.
    os.environ[ASGI_SERVER_FLAG] = "true"
    event_loop_install()  # before Daphne's server module installs a reactor on asyncio's own loop
    from daphne.cli import CommandLineInterface

    oddstream_daphne = type("OddstreamDaphne", (CommandLineInterface,), {"server_class": server_class()})
    oddstream_daphne().run(daphne_args(sys.argv[1:] if argv is None else argv))


def server_class() -> type:
    """Daphne's server, its walks over every connection sliced (REALTIME_WALK_SLICE_MS), or
    Daphne's own with the setting at 0. Imports Daphne's server module: after the loop is installed."""
    from daphne.server import Server

    from realtime.daphne_server import SlicedServer

    if settings.REALTIME_WALK_SLICE_MS <= 0:
        return Server
    return type("OddstreamServer", (SlicedServer,), {"slice_seconds": settings.REALTIME_WALK_SLICE_MS / 1000})


if __name__ == "__main__":
    main()
