"""Names and wire format of the Redis pub/sub streams between publishers and web processes.

A publisher PUBLISHes one envelope per event: a one-line JSON header with the routing
fields, a newline, then the client frame already encoded as JSON. A web process parses the
small header to route the event and forwards the frame text untouched, so each event is
encoded once, by its publisher, whatever the number of sockets.
"""

import json
from typing import Any

from django.conf import settings

ODDS = "odds"  # odds and match-status changes of every match
BLOG = "blog"  # the blog feed
PRIVATE = "private"  # per-user events (bet, wallet); routed by the `user` header field
PRESENCE = "presence"  # web processes tell each other their socket counts changed (not sent to clients)

ALL_STREAMS = (ODDS, BLOG, PRIVATE, PRESENCE)


def channel_name(stream: str) -> str:
    return f"{settings.REALTIME_PREFIX}:stream:{stream}"


def stream_of_channel(channel: str) -> str:
    return channel.rsplit(":", 1)[-1]


def encode_frame(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), default=str)


def encode_envelope(frame: dict[str, Any], **routing: Any) -> str:
    # The frame's type rides in the header too: the hub conflates by (type, match) without
    # parsing the frame itself.
    header = {"type": frame.get("type"), **routing}
    return json.dumps(header, separators=(",", ":")) + "\n" + encode_frame(frame)


def decode_envelope(data: str) -> tuple[dict[str, Any], str]:
    header, _, frame = data.partition("\n")
    return json.loads(header), frame
