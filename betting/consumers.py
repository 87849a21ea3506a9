"""The odds WebSocket endpoints: `/ws/odds/` and `/ws/odds/<id>/` speak the versioned protocol
(docs/websocket-protocol.md); `/ws/cotes/` and `/ws/cotes/<id>/` speak the seed's
`cotes_update` shape for its existing clients. Each client action has one handler; what every
socket shares is `realtime.consumers.StreamConsumer`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from betting import events
from betting import streams as odds_streams
from betting.models import Match
from betting.selectors import match_list_by_ids, match_list_listed
from realtime import streams
from realtime.consumers import CLOSE_NOT_FOUND, BadRequest, StreamConsumer
from realtime.shared_read import SharedRead

# Ids are BigAutoField values: a larger integer is no match, and would overflow the database's
# integer in the query (an unhandled error, found by the WebSocket fuzzer).
MAX_MATCH_ID = 2**63 - 1


# --- Reads (ORM behind database_sync_to_async) ---------------------------------
@database_sync_to_async
def load_states(match_ids: list[int] | None) -> list[dict[str, Any]]:
    """The current state of the listed matches, or (None) of every match on the front page."""

    matches = match_list_listed() if match_ids is None else match_list_by_ids(match_ids)
    return [events.match_state(m) for m in sorted(matches, key=lambda m: m.pk)]


# Every socket on /ws/odds/ and /ws/cotes/ starts with this snapshot: reconnect storms share reads.
listed_states: SharedRead[list[dict[str, Any]]] = SharedRead(lambda: load_states(None))


@database_sync_to_async
def existing_match_ids(match_ids: list[int]) -> set[int]:
    return set(Match.objects.filter(pk__in=match_ids).values_list("pk", flat=True))


def is_match_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_MATCH_ID


def parse_match_ids(value: Any) -> list[int]:
    limit = settings.REALTIME_MAX_SUBSCRIPTIONS
    if not isinstance(value, list) or not value:
        raise BadRequest("bad_request", "`matches` is a non-empty list of match ids.")
    if len(value) > limit:
        raise BadRequest("too_many_matches", f"At most {limit} matches per request.")
    if not all(is_match_id(item) for item in value):
        raise BadRequest("bad_match_id", "Match ids are positive integers.")
    return sorted(set(value))


class MatchInPathConsumer(StreamConsumer):
    """An endpoint whose path may name a match (`<int:match_id>`)."""

    async def match_in_path(self) -> tuple[bool, int | None]:
        """(found, the match id or None when the path names none). A match that does not
        exist, or an id no match can have (zero, past the database's integers), is not found:
        the socket is refused with 4404, and the database is not asked about such an id."""
        raw_id = self.scope["url_route"]["kwargs"].get("match_id")
        if raw_id is None:
            return True, None
        match_id = int(raw_id)
        if is_match_id(match_id) and await existing_match_ids([match_id]):
            return True, match_id
        await self.accept()
        reason = f"Match {match_id} does not exist." if is_match_id(match_id) else "No match has that id."
        await self.refuse(CLOSE_NOT_FOUND, "match_not_found", reason)
        return False, match_id


class OddsConsumer(MatchInPathConsumer):
    """The versioned odds protocol: `snapshot`, then `odds` / `match` / `heartbeat` frames.

    `/ws/odds/` follows every match; `/ws/odds/<id>/` starts with one. Either can subscribe
    to more matches and unsubscribe from the ones it named.
    """

    presence_stream = "odds"

    follow_all = False

    def actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "ping": self.action_ping,
            "subscribe": self.action_subscribe,
            "unsubscribe": self.action_unsubscribe,
            "resync": self.action_resync,
        }

    async def open(self) -> None:
        self.matches: set[int] = set()
        found, match_id = await self.match_in_path()
        if not found:
            return
        await self.accept()
        hub = await self.join_hub()
        if match_id is None:
            self.follow_all = True
            await self.join(odds_streams.ODDS_ALL)
        else:
            self.matches.add(match_id)
            await self.join(odds_streams.odds_group(match_id))
        if self.user_id is not None:
            await self.join(streams.user_group(self.user_id))  # the user's private events
        # Subscribed before the snapshot is read, so no change falls between the two; the
        # client drops an update whose version is not above what it holds.
        await hub.wait_connected(timeout=2.0)
        await self.send_snapshot(None)

    async def send_snapshot(self, match_ids: list[int] | None, **extra: Any) -> None:
        """The state of the listed matches, or (None) of everything the socket follows."""
        if match_ids is None:
            states = list(await listed_states.get()) if self.follow_all else await load_states(sorted(self.matches))
            if self.follow_all and self.matches:
                listed = {state["match"] for state in states}
                states += await load_states(sorted(self.matches - listed))
        else:
            states = await load_states(match_ids)
        await self.send_frame({"type": "snapshot", "matches": states, **extra})

    async def resubscribed(self) -> None:
        await self.send_snapshot(None)

    async def action_subscribe(self, message: dict[str, Any]) -> None:
        wanted = parse_match_ids(message.get("matches"))
        known = await existing_match_ids(wanted)
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise BadRequest("unknown_match", f"No such matches: {unknown}.", matches=unknown)
        if len(self.matches | known) > settings.REALTIME_MAX_SUBSCRIPTIONS:
            raise BadRequest("too_many_matches", f"At most {settings.REALTIME_MAX_SUBSCRIPTIONS} subscriptions.")
        for match_id in known - self.matches:
            await self.join(odds_streams.odds_group(match_id))
        self.matches |= known
        await self.send_snapshot(sorted(known))

    async def action_unsubscribe(self, message: dict[str, Any]) -> None:
        unwanted = set(parse_match_ids(message.get("matches")))
        for match_id in unwanted & self.matches:
            await self.leave(odds_streams.odds_group(match_id))
        self.matches -= unwanted
        await self.send_frame({"type": "unsubscribed", "matches": sorted(unwanted), "following": sorted(self.matches)})

    async def action_resync(self, message: dict[str, Any]) -> None:
        """Everything the client needs to converge: the current state (full frames, so the
        newest state is all that is missing after any gap)."""
        match_id = message.get("match")
        since = message.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise BadRequest("bad_request", "`since` is the last version the client holds (an integer).")
        if match_id is None:
            await self.send_snapshot(None, resync=True)
            return
        (match_id,) = parse_match_ids([match_id])
        if not self.follow_all and match_id not in self.matches:
            raise BadRequest("not_subscribed", f"Not subscribed to match {match_id}.", matches=[match_id])
        states = await load_states([match_id])
        if not states:
            raise BadRequest("unknown_match", f"No such match: {match_id}.", matches=[match_id])
        await self.send_frame({"type": "snapshot", "matches": states, "resync": True, "since": since})


class CotesConsumer(MatchInPathConsumer):
    """The seed's protocol, unchanged: one `cotes_update` per match and per change."""

    presence_stream = "odds"
    wants_heartbeat = False  # the seed's protocol has no heartbeat

    def actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {"ping": self.action_ping, "resync": self.action_resync}

    async def open(self) -> None:
        found, self.match_id = await self.match_in_path()
        if not found:
            return
        await self.accept()
        hub = await self.join_hub()
        await self.join(odds_streams.COTES_ALL if self.match_id is None else odds_streams.cotes_group(self.match_id))
        await hub.wait_connected(timeout=2.0)
        await self.send_snapshot()

    async def send_snapshot(self) -> None:
        states = await (listed_states.get() if self.match_id is None else load_states([self.match_id]))
        for state in states:
            # Version 0 like the live frames (the seed's data has none): the newest arrival wins.
            await self.write(("cotes", state["match"]), 0, odds_streams.cotes_frame(state))

    async def resubscribed(self) -> None:
        await self.send_snapshot()

    async def action_resync(self, message: dict[str, Any]) -> None:
        await self.send_snapshot()
