"""Caps on the sockets one user, and one client IP, may hold open on a web process.

Counted per process, in memory, on purpose: what a socket costs (about 35 KiB of memory, a
file descriptor, a share of every fan-out) is spent by the process that holds it, so a cap
per process bounds what one client can take from any process. A count in Redis would put a
round trip on every handshake (the connect storms this design avoids) and would keep the
sockets of a killed process counted. Across N web processes a client may hold at most N
times the cap; a global cap per IP belongs to the proxy (nginx `limit_conn`).

The client IP is the ASGI `client`; behind a proxy, run Daphne with `--proxy-headers` so it
is the browser's address (X-Forwarded-For), not the proxy's, which every client would share.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

from django.conf import settings

K = TypeVar("K")


def decrement(counter: Counter[K], key: K) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class SocketCaps:
    def __init__(self) -> None:
        self._users: Counter[int] = Counter()
        self._ips: Counter[str] = Counter()

    def admit(self, user_id: int | None, ip: str | None) -> str | None:
        """Count the socket in, or say why it is one too many (and count nothing)."""
        per_user = settings.REALTIME_MAX_SOCKETS_PER_USER
        per_ip = settings.REALTIME_MAX_SOCKETS_PER_IP
        if user_id is not None and per_user and self._users[user_id] >= per_user:
            return f"too many sockets: at most {per_user} per user"
        if ip is not None and per_ip and self._ips[ip] >= per_ip:
            return f"too many sockets: at most {per_ip} per address"
        if user_id is not None:
            self._users[user_id] += 1
        if ip is not None:
            self._ips[ip] += 1
        return None

    def release(self, user_id: int | None, ip: str | None) -> None:
        if user_id is not None:
            decrement(self._users, user_id)
        if ip is not None:
            decrement(self._ips, ip)

    def count(self, user_id: int | None = None, ip: str | None = None) -> int:
        return self._users[user_id] if user_id is not None else self._ips[ip] if ip is not None else 0


socket_caps = SocketCaps()  # one per process: counts are plain integers, no loop needed
