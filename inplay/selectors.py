"""Reads of the match feed: a match's log and its timeline, and what ops watch."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from betting.delay import SUSPENDED_DURING_DELAY, Interruption
from betting.models import Market, MarketStatus, MatchStatus
from inplay.models import FeedEvent, MatchState
from inplay.state import LIVE, SUSPENDING, FeedItem, Kind, Outcome, fold


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


def markets_suspended() -> int:
    """Markets suspended now: every market row of a suspended match (a goal suspends them all),
    and any row suspended on its own. A scheduled match's rows wait as suspended too: not counted."""
    return Market.objects.filter(status=MarketStatus.SUSPENDED).exclude(match__status=MatchStatus.SCHEDULED).count()


def feed_event_counts() -> dict[str, int]:
    """Events received, and those still waiting for a worker."""
    counts = FeedEvent.objects.aggregate(received=Count("id"), waiting=Count("id", filter=Q(processed_at=None)))
    return {"received": counts["received"] or 0, "waiting": counts["waiting"] or 0}


def feed_lag_histogram(bounds: Sequence[float]) -> tuple[list[tuple[float, int]], int, float]:
    """Every processed event's lag (its time to its processing), in cumulative buckets of
    `bounds` seconds, with the count and the sum in seconds: one query, the same answer from any
    process, and it only grows."""
    counts = FeedEvent.objects.filter(lag_ms__isnull=False).aggregate(
        count=Count("id"),
        total_ms=Sum("lag_ms"),
        **{f"le_{i}": Count("id", filter=Q(lag_ms__lte=b * 1000)) for i, b in enumerate(bounds)},
    )
    buckets = [(bound, counts[f"le_{i}"]) for i, bound in enumerate(bounds)]
    return buckets, counts["count"], (counts["total_ms"] or 0.0) / 1000


def feed_lag_recent_ms(window: timedelta = timedelta(minutes=5)) -> dict[str, float | None]:
    """The median and p99 feed lag of the events processed in the last `window`."""
    since = timezone.now() - window
    recent = FeedEvent.objects.filter(processed_at__gte=since, lag_ms__isnull=False).values_list("lag_ms", flat=True)
    lags = sorted(lag for lag in recent[:10000] if lag is not None)
    if not lags:
        return {"p50": None, "p99": None, "events": 0}
    return {
        "p50": lags[len(lags) // 2],
        "p99": lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))],
        "events": len(lags),
    }


def bet_delay_interruptions(*, match_id: int, start: datetime, end: datetime) -> list[Interruption]:
    """The match's material events (goal, disallowed goal, red card, penalty) as the bet delay
    sees them: each one, received by `end`, spans from when it happened or reached the book
    (the earlier) to when it happened or the worker folded it (the later; not over while it
    waits for the worker), and rejects a delay it overlaps, `suspended_during_delay`.

    So a goal scored during the delay, one the book hears of during it, and one it heard of
    before that its worker had not yet folded (the markets not yet suspended) all count. The
    worker's stamp only goes from none to a later time, so the answer does not change with
    the time it is asked."""
    material = [kind.value for kind in SUSPENDING]
    events = FeedEvent.objects.filter(match_id=match_id, kind__in=material, received_at__lte=end)
    events = events.filter(Q(processed_at=None) | Q(processed_at__gte=start) | Q(occurred_at__gte=start))
    return [
        Interruption(
            start=min(occurred_at, received_at),
            end=None if processed_at is None else max(occurred_at, processed_at),
            reason=SUSPENDED_DURING_DELAY,
        )
        for occurred_at, received_at, processed_at in events.values_list("occurred_at", "received_at", "processed_at")
    ]
