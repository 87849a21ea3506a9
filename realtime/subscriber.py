"""What the hub needs of a socket (the project's consumers are `realtime.consumers.StreamConsumer`)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

Item = tuple[Hashable | None, int, str]  # conflation key, version, frame text


class Subscriber(Protocol):
    user_id: int | None
    presence_stream: str  # the stream this socket counts under
    wants_presence: bool  # told `presence` frames for its stream
    wants_heartbeat: bool

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        """Send now, or queue (conflated by `key`) if the socket is congested."""

    async def deliver_batch(self, items: list[Item], wire: bytes) -> None:
        """Several frames at once; `wire` is all of them as WebSocket frames, joined."""

    async def drain(self, now: float) -> bool:
        """Flush a congested socket's outbox if it caught up; True when no longer congested."""

    async def resubscribed(self) -> None:
        """The hub lost events (Redis went away and came back): bring the client up to date."""
