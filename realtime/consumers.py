"""WebSocket consumers: small protocol state machines over the process's hub.

`/ws/odds/` and `/ws/odds/<id>/` speak the versioned protocol of DESIGN.md; `/ws/cotes/`
and `/ws/cotes/<id>/` speak the seed's `cotes_update` shape for its existing clients.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from betting import events
from betting.models import Match
from realtime import streams
from realtime.hub import ALL_MATCHES, get_hub

logger = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
MAX_FRAME_BYTES = 4096


@database_sync_to_async
def _load_states(match_id: int | None) -> list[dict[str, Any]] | None:
    """Current state of one match (None if it does not exist) or of every listed match."""
    from betting.selectors import match_list_listed

    if match_id is None:
        return [events.match_state(m) for m in match_list_listed()]
    match = Match.objects.filter(pk=match_id).first()
    return None if match is None else [events.match_state(match)]


class BaseOddsConsumer(AsyncWebsocketConsumer):
    """Subscribes to all matches or to the one in the URL, sends a snapshot, then updates."""

    user_id: int | None = None
    match_id: int | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        raw_id = self.scope["url_route"]["kwargs"].get("match_id")
        self.match_id = int(raw_id) if raw_id is not None else None
        states = await _load_states(self.match_id)
        if states is None:
            # Accept first so the client gets a reason, not a bare 403 on the handshake.
            await self.accept()
            await self.send_error("match_not_found", f"Match {self.match_id} does not exist.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.accept()
        self.hub = get_hub()
        self.hub.add(self)
        self.hub.subscribe_odds(self, ALL_MATCHES if self.match_id is None else self.match_id)
        # Subscribed before the snapshot is read, so no change falls between the two; a
        # client drops an update whose version is not above what it holds.
        await self.hub.wait_connected(timeout=2.0)
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.remove(self)

    async def resubscribed(self) -> None:
        await self.send_snapshot()

    async def send_error(self, code: str, message: str) -> None:
        await self.send(text_data=streams.encode_frame({"type": "error", "code": code, "message": message}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return
        try:
            message = json.loads(text_data)
        except json.JSONDecodeError:
            await self.send_error("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(message, dict):
            await self.send_error("bad_frame", "A frame is a JSON object with an `action`.")
            return
        await self.handle_action(message)

    async def handle_action(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action == "ping":
            await self.send(text_data=streams.encode_frame({"type": "pong"}))
        elif action == "resync":
            await self.send_snapshot()
        else:
            await self.send_error("unknown_action", f"Unknown action {action!r}.")

    async def send_snapshot(self) -> None:
        raise NotImplementedError

    async def deliver(self, stream: str, header: dict[str, Any], frame: str) -> None:
        raise NotImplementedError


class OddsConsumer(BaseOddsConsumer):
    """The versioned protocol: `snapshot`, then `odds` / `match` / `heartbeat` frames."""

    async def send_snapshot(self) -> None:
        states = await _load_states(self.match_id) or []
        await self.send(text_data=streams.encode_frame({"type": "snapshot", "matches": states}))

    async def deliver(self, stream: str, header: dict[str, Any], frame: str) -> None:
        await self.send(text_data=frame)


def cotes_frame(state: dict[str, Any]) -> str:
    """The seed's `cotes_update` message for one match state."""
    odds = state["odds"]
    return streams.encode_frame(
        {
            "type": "cotes_update",
            "data": {
                "match_id": state["match"],
                "cote1": odds["home"],
                "coteN": odds["draw"],
                "cote2": odds["away"],
                "last_updated": state["ts"],
                "paris_count": state["bets"],
            },
        }
    )


class CotesConsumer(BaseOddsConsumer):
    """The seed's protocol, unchanged: one `cotes_update` per match and per change."""

    async def send_snapshot(self) -> None:
        for state in await _load_states(self.match_id) or []:
            await self.send(text_data=cotes_frame(state))

    async def deliver(self, stream: str, header: dict[str, Any], frame: str) -> None:
        if stream != streams.ODDS:
            return  # the seed's clients know no heartbeat or private events
        message = json.loads(frame)
        if message.get("type") == "odds":
            await self.send(text_data=cotes_frame(message))
