"""The odds stream: its channel-layer groups, how their messages become frames, and the seed's
`cotes_update` shape (`realtime.streams` for how streams and fast-path groups work).

| group | who joins | message type | frame | conflation key |
|---|---|---|---|---|
| `odds_all`, `odds_<match>` | `/ws/odds/` sockets | `odds_event` | `data` | (`data.type`, match) by version |
| `cotes_all`, `cotes_<match>` | `/ws/cotes/` sockets | `cotes_update` | the whole message (the seed's shape) | match |

An odds change reaches `odds_all` and `odds_<match>` (one envelope: a socket in both gets it
once) and, in the seed's shape, `cotes_all` and `cotes_<match>`. The seed's protocol knows only
price changes of the 1X2 market, so a status change reaches the odds groups alone.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from realtime.groups import Message, encode_json, fast_group
from realtime.streams import GroupMessages, stream_declare

ODDS = "odds"  # odds and match-status changes of every match

ODDS_ALL = "odds_all"
COTES_ALL = "cotes_all"
ODDS_EVENT = "odds_event"
COTES_UPDATE = "cotes_update"


def odds_group(match_id: int) -> str:
    return f"odds_{match_id}"


def cotes_group(match_id: int) -> str:
    return f"cotes_{match_id}"


# --- Frames and conflation ------------------------------------------------------------------
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


# --- The seed's shape -------------------------------------------------------------------------
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


def cotes_frame(state: dict[str, Any]) -> str:
    """The seed's `cotes_update` message for one match state."""
    return cotes_frame_of({"data": cotes_data(state)})


# --- From an odds event to group messages -----------------------------------------------------
def odds_group_messages(frame: dict[str, Any], routing: dict[str, Any]) -> GroupMessages:
    match_id = int(routing["match"])
    sent: GroupMessages = [([ODDS_ALL, odds_group(match_id)], {"type": ODDS_EVENT, "data": frame})]
    prices = frame.get("odds")
    if frame.get("type") == "odds" and isinstance(prices, dict) and {"home", "draw", "away"} <= prices.keys():
        sent.append(([COTES_ALL, cotes_group(match_id)], {"type": COTES_UPDATE, "data": cotes_data(frame)}))
    return sent


stream_declare(ODDS, odds_group_messages)
