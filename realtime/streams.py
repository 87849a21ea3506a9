"""Streams: what the services publish, and the channel-layer groups each event reaches.

The services publish `(stream, frame, routing)` (`realtime.publisher`). A stream that reaches
sockets is declared by the module that owns it, with `stream_declare(name, group_messages)`:
its function says which groups an event reaches and with which message, in the shape the seeds'
code uses (`{"type": <handler>, "data": {...}}`), so a consumer written the Channels way, with a
handler per type, can join the same groups. Its groups are declared fast-path beside it
(`realtime.groups.fast_group`), with how their messages become frames and how they conflate.

This module declares what is not any domain's: the private stream (a signed-in user's own
events, on the `user_<id>` group of their sockets) and the control streams, which reach web
processes rather than sockets (e.g. the credentials' revocations). The domains declare theirs:
`betting.streams` (odds, and the seed's `cotes` shape), `blog.streams` (the blog feed).

| group | who joins | message type | frame | conflation key |
|---|---|---|---|---|
| `user_<id>` | a signed-in user's `/ws/odds/` sockets | `private_event` | `data` | none: every one arrives |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings

from realtime.groups import Message, encode_json, fast_group

GroupMessages = list[tuple[list[str], Message]]

PRIVATE = "private"  # per-user events (bet, wallet); routed by the `user` routing field
PRIVATE_EVENT = "private_event"

_declared: dict[str, Callable[[dict[str, Any], dict[str, Any]], GroupMessages]] = {}
_control: set[str] = set()


def stream_declare(name: str, group_messages: Callable[[dict[str, Any], dict[str, Any]], GroupMessages]) -> None:
    """Declare a stream that reaches sockets: `group_messages(frame, routing)` lists the groups
    an event reaches, with the message each set of groups gets."""
    _declared[name] = group_messages


def control_stream_declare(name: str) -> None:
    """Declare a control stream: its events go to web processes (`channel_name`), not sockets."""
    _control.add(name)


def is_control_stream(stream: str) -> bool:
    return stream in _control


def group_messages(stream: str, frame: dict[str, Any], routing: dict[str, Any]) -> GroupMessages:
    """The groups an event of `stream` reaches, with the message each set of groups gets."""
    declared = _declared.get(stream)
    if declared is None:
        raise ValueError(f"Unknown stream {stream!r}: no module declared it (stream_declare)")
    return declared(frame, routing)


def encode_frame(frame: dict[str, Any]) -> str:
    return encode_json(frame)


# --- The private stream ------------------------------------------------------------------
def user_group(user_id: int) -> str:
    return f"user_{user_id}"


def private_group_messages(frame: dict[str, Any], routing: dict[str, Any]) -> GroupMessages:
    return [([user_group(int(routing["user"]))], {"type": PRIVATE_EVENT, "data": frame})]


fast_group(r"user_\d+")
stream_declare(PRIVATE, private_group_messages)


# --- Control streams (not for sockets: e.g. the credentials' revocations) -----------------
def channel_name(stream: str) -> str:
    return f"{settings.REALTIME_PREFIX}:stream:{stream}"


def encode_envelope(frame: dict[str, Any], **routing: Any) -> str:
    """A JSON header with the routing fields, a newline, the frame as JSON."""
    header = {"type": frame.get("type"), **routing}
    return json.dumps(header, separators=(",", ":")) + "\n" + encode_frame(frame)


def decode_envelope(data: str) -> tuple[dict[str, Any], str]:
    header, _, frame = data.partition("\n")
    return json.loads(header), frame
