"""The frames of the match feed: one `match` frame per processing, built in one place.

It is the `match` frame of betting (status, suspension reason, result, version) with the live
state (period, clock, score, red cards) and the events this processing folded, each with what
it did, so a match page extends its timeline without asking the API.
"""

from typing import Any

from betting import streams as odds_streams
from betting.events import match_status_frame
from betting.models import Match
from inplay.models import FeedEvent, MatchState
from inplay.state import Outcome
from realtime.publisher import publish_on_commit


def feed_event_payload(event: FeedEvent, outcome: Outcome | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": event.provider_event_id,
        "sequence": event.sequence,
        "kind": event.kind,
        "team": event.team or None,
        "minute": event.minute,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if event.cancels:
        payload["cancels"] = event.cancels
    if event.home_goals is not None and event.away_goals is not None:
        payload["score"] = {"home": event.home_goals, "away": event.away_goals}
    if outcome is not None:
        payload["applied"] = outcome.applied
        payload["ignored_because"] = outcome.reason or None
    return payload


def match_feed_frame(match: Match, row: MatchState, folded: list[tuple[FeedEvent, Outcome]]) -> dict[str, Any]:
    return {
        **match_status_frame(match),
        "live": row.as_frame(),
        "events": [feed_event_payload(event, outcome) for event, outcome in folded],
    }


def match_feed_publish_on_commit(match: Match, row: MatchState, folded: list[tuple[FeedEvent, Outcome]]) -> None:
    publish_on_commit(
        odds_streams.ODDS, match_feed_frame(match, row, folded), match=match.pk, version=match.odds_version
    )
