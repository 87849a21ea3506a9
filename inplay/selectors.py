"""Reads of the match feed: a match's log and its timeline, and what ops watch."""

from typing import Any

from django.db.models import Count, Q, Sum

from betting.models import MatchStatus
from inplay.models import FeedEvent, MatchState
from inplay.state import LIVE, FeedItem, Kind, Outcome, fold


def match_log(match_id: int) -> list[FeedEvent]:
    """The match's log in sequence order: the events of the provider that feeds it (the first
    one to post an event for it; the API refuses the others, and this keeps a race between two
    from mixing their sequence numbers)."""
    first = FeedEvent.objects.filter(match_id=match_id).order_by("id").values_list("provider_id", flat=True).first()
    if first is None:
        return []
    return list(FeedEvent.objects.filter(match_id=match_id, provider_id=first).order_by("sequence"))


def feed_item(event: FeedEvent) -> FeedItem:
    home, away = event.home_goals, event.away_goals
    return FeedItem(
        event_id=event.provider_event_id,
        sequence=event.sequence,
        kind=Kind(event.kind),
        occurred_at=event.occurred_at,
        team=event.team,
        minute=event.minute,
        cancels=event.cancels,
        final_score=(home, away) if home is not None and away is not None else None,
        clock_rate=event.clock_rate,
    )


def match_timeline(match_id: int) -> list[tuple[FeedEvent, Outcome]]:
    """Every event of the match's log in sequence order, with what it did in the fold."""
    log = match_log(match_id)
    outcomes = {outcome.event_id: outcome for outcome in fold(feed_item(event) for event in log).outcomes}
    return [(event, outcomes[event.provider_event_id]) for event in log]


def matches_in_play() -> int:
    return MatchState.objects.filter(period__in=[period.value for period in LIVE]).count()


def matches_suspended() -> int:
    """Matches whose markets are suspended (one 1X2 book per match today)."""
    from betting.models import Match

    return Match.objects.filter(status=MatchStatus.SUSPENDED).count()


def feed_event_counts() -> dict[str, Any]:
    """Events received, and those still waiting for a worker."""
    counts = FeedEvent.objects.aggregate(received=Count("id"), waiting=Count("id", filter=Q(processed_at=None)))
    return {"received": counts["received"] or 0, "waiting": counts["waiting"] or 0}


def feed_lag_total_ms() -> float:
    return FeedEvent.objects.aggregate(total=Sum("lag_ms"))["total"] or 0.0
