"""The layer's wire format on Redis: how messages are packed, and the names of the Redis channels.

Every process that publishes or subscribes (a worker, a web process's hub, `manage.py shell`)
speaks this format; it holds no state and imports nothing of the hub or the layer.

- A message to an ordinary group or a named channel: the message, msgpack-encoded.
- A message to fast-path groups (`realtime.groups`): an envelope, encoded once by the sender,
  of a JSON header (groups, conflation key, version, frame length), the frame text every member
  socket receives, then the message itself for members that are not hub sockets.
- A message to a channel of one process (`specific.<hub token>!<id>`): the channel name, a
  newline, the packed message, on that hub's own Redis channel.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import msgpack

from realtime.groups import FastGroup

ENVELOPE_SEPARATOR = b"\n"
SPECIFIC_PREFIX = "specific."

# (groups, conflation key, version, frame text, the packed message)
FastEvent = tuple[list[str], Hashable | None, int, str, bytes]


def serialize(message: Mapping[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def deserialize(data: bytes) -> dict[str, Any]:
    return msgpack.unpackb(data, raw=False)


def encode_fast(groups: Sequence[str], route: FastGroup, message: Mapping[str, Any]) -> bytes:
    frame = route.frame(message).encode()
    key = route.key(message)
    header = {"g": list(groups), "k": key, "v": route.version(message), "n": len(frame)}
    return json.dumps(header, separators=(",", ":")).encode() + ENVELOPE_SEPARATOR + frame + serialize(message)


def decode_fast(data: bytes) -> FastEvent:
    end = data.index(ENVELOPE_SEPARATOR)
    header = json.loads(data[:end])
    start = end + 1
    stop = start + header["n"]
    key = header["k"]
    return (
        header["g"],
        tuple(key) if isinstance(key, list) else key,
        header["v"],
        data[start:stop].decode(),
        data[stop:],
    )


def encode_direct(channel: str, message: Mapping[str, Any]) -> bytes:
    return channel.encode() + ENVELOPE_SEPARATOR + serialize(message)


def decode_direct(data: bytes) -> tuple[str, dict[str, Any]]:
    end = data.index(ENVELOPE_SEPARATOR)
    return data[:end].decode(), deserialize(data[end + 1 :])


def hub_token_of(channel: str) -> str | None:
    """The hub that owns a process-specific channel (`specific.<hub>!<id>`), or None."""
    if channel.startswith(SPECIFIC_PREFIX) and "!" in channel:
        return channel[len(SPECIFIC_PREFIX) : channel.index("!")]
    return None


class RedisNames:
    """The Redis pub/sub channels of one layer prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.fast = f"{prefix}:fast"
        self.presence = f"{prefix}:presence"
        self.group_prefix = f"{prefix}:group:"
        self.channel_prefix = f"{prefix}:channel:"

    def hub(self, token: str) -> str:
        return f"{self.prefix}:hub:{token}"

    def group(self, name: str) -> str:
        return self.group_prefix + name

    def channel(self, name: str) -> str:
        return self.channel_prefix + name
