"""The frames waiting for one congested socket: conflated, bounded.

A socket that keeps up never uses its outbox: the hub writes each frame straight through.
Once the socket's unsent backlog passes the high-water mark, frames wait here instead:

- a frame with a conflation key (an `odds` or `match` frame of one match, the heartbeat,
  a presence count) replaces the waiting frame with the same key when its version is not
  older: a slow client gets the newest state of each match, never a backlog of prices;
- any other frame (a private `bet` or `wallet` event, a blog post, a reply to the client)
  must arrive, so it is queued; more than `max_frames` of those means the client is not
  keeping up at all, and `put` says so (the caller closes the socket with 4408).
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import count

ConflationKey = Hashable


class Outbox:
    __slots__ = ("_frames", "_max_frames", "_sequence", "_unconflated", "congested_since", "superseded")

    def __init__(self, max_frames: int, now: float) -> None:
        self._frames: dict[ConflationKey, tuple[int, str]] = {}
        self._max_frames = max_frames
        self._sequence = count()
        self._unconflated = 0
        self.congested_since = now
        self.superseded = 0  # frames replaced by a newer one with the same key

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, key: ConflationKey | None, version: int, frame: str) -> bool:
        """Queue a frame; False when the frames that cannot be conflated overflow the bound."""
        if key is None:
            if self._unconflated >= self._max_frames:
                return False
            self._unconflated += 1
            self._frames[("queued", next(self._sequence))] = (version, frame)
            return True
        waiting = self._frames.get(key)
        if waiting is not None:
            if version < waiting[0]:
                return True  # an older version arriving late: the newer one stays
            self.superseded += 1
        # Re-inserted at the end, so frames reach the client in the order they became current.
        self._frames.pop(key, None)
        self._frames[key] = (version, frame)
        return True

    def take(self) -> list[str]:
        frames = [frame for _, frame in self._frames.values()]
        self._frames.clear()
        self._unconflated = 0
        return frames
