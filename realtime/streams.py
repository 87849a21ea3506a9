"""The project's real-time streams, as channel-layer groups, and the Redis names of the layer.

Each stream is a family of groups, declared here with how its messages become frames and
how they conflate (`realtime.groups`). The services publish `(stream, frame, routing)`
(`realtime.publisher`); `group_messages` says which groups that reaches and with which
message, in the shape the seeds' code uses (`{"type": <handler>, "data": {...}}`), so a
consumer written the Channels way, with a handler per type, can join the same groups:

| group | who joins | message type | frame | conflation key |
|---|---|---|---|---|
| `odds_all`, `odds_<match>` | `/ws/odds/` sockets | `odds_event` | `data` | (`data.type`, match) by version |
| `cotes_all`, `cotes_<match>` | `/ws/cotes/` sockets | `cotes_update` | the whole message (the seed's shape) | match |
| `user_<id>` | a signed-in user's `/ws/odds/` sockets | `private_event` | `data` | none: every one arrives |
| `blog_feed`, `blog_drafts_<author>` | `/ws/blog/` sockets (drafts: the author's) | `blog_event` | `data` | none |
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from django.conf import settings

from realtime.groups import Message, encode_json, fast_group

ODDS = "odds"  # odds and match-status changes of every match
BLOG = "blog"  # the blog feed
PRIVATE = "private"  # per-user events (bet, wallet); routed by the `user` routing field
GROUP_STREAMS = (ODDS, BLOG, PRIVATE)  # delivered to sockets through channel-layer groups

ODDS_ALL = "odds_all"
COTES_ALL = "cotes_all"
BLOG_FEED = "blog_feed"

ODDS_EVENT = "odds_event"
COTES_UPDATE = "cotes_update"
PRIVATE_EVENT = "private_event"
BLOG_EVENT = "blog_event"


def odds_group(match_id: int) -> str:
    return f"odds_{match_id}"


def cotes_group(match_id: int) -> str:
    return f"cotes_{match_id}"


def user_group(user_id: int) -> str:
    return f"user_{user_id}"


def blog_drafts_group(user_id: int) -> str:
    return f"blog_drafts_{user_id}"


# --- Fast-path declarations --------------------------------------------------------------
def _odds_key(message: Message) -> Hashable | None:
    data = message["data"]
    return (data.get("type"), data["match"]) if "match" in data else None


def _odds_version(message: Message) -> int:
    return int(message["data"].get("version") or 0)


def cotes_frame_of(message: Message) -> str:
    """What the seed's `CotesConsumer.cotes_update` handler sends."""
    return encode_json({"type": COTES_UPDATE, "data": message["data"]})


def _cotes_key(message: Message) -> Hashable | None:
    match_id = message["data"].get("match_id")
    return None if match_id is None else ("cotes", match_id)


fast_group(r"odds_(all|\d+)", key=_odds_key, version=_odds_version)
fast_group(r"cotes_(all|\d+)", frame=cotes_frame_of, key=_cotes_key)
fast_group(r"user_\d+")
fast_group(r"blog_feed|blog_drafts_\d+")


# --- From the services' events to group messages ------------------------------------------
def cotes_data(state: dict[str, Any]) -> dict[str, Any]:
    """The seed's `cotes_update` data for one match state (an `odds` frame or a snapshot entry)."""
    odds = state["odds"]
    return {
        "match_id": state["match"],
        "cote1": odds["home"],
        "coteN": odds["draw"],
        "cote2": odds["away"],
        "last_updated": state.get("ts"),
        "paris_count": state.get("bets"),
    }


def group_messages(stream: str, frame: dict[str, Any], routing: dict[str, Any]) -> list[tuple[list[str], Message]]:
    """The groups an event of `stream` reaches, with the message each set of groups gets."""
    if stream == ODDS:
        match_id = int(routing["match"])
        sent: list[tuple[list[str], Message]] = [
            ([ODDS_ALL, odds_group(match_id)], {"type": ODDS_EVENT, "data": frame})
        ]
        prices = frame.get("odds")
        # The seed's protocol knows only price changes of the 1X2 market.
        if frame.get("type") == "odds" and isinstance(prices, dict) and {"home", "draw", "away"} <= prices.keys():
            sent.append(([COTES_ALL, cotes_group(match_id)], {"type": COTES_UPDATE, "data": cotes_data(frame)}))
        return sent
    if stream == PRIVATE:
        return [([user_group(int(routing["user"]))], {"type": PRIVATE_EVENT, "data": frame})]
    if stream == BLOG:
        only_user = routing.get("user")  # a draft: its author only
        group = BLOG_FEED if only_user is None else blog_drafts_group(int(only_user))
        return [([group], {"type": BLOG_EVENT, "data": frame})]
    raise ValueError(f"Unknown stream {stream!r}")


def encode_frame(frame: dict[str, Any]) -> str:
    return encode_json(frame)


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
