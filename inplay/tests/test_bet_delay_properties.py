"""The bet delay's rule over random timelines: no accepted bet's delay overlaps a suspension or a
material event, and a late worker decides as an on-time one.

Pure: `delay_verdict` is fed the interruptions the status log and the feed's log would give a
worker deciding at a given time (the same reading as `status_interruptions` and
`inplay.selectors.bet_delay_interruptions`, done here on plain values)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from betting.delay import MARKET_CLOSED, SUSPENDED_DURING_DELAY, TIMED_OUT, Interruption, delay_verdict

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
DELAY = 6.0
REOPEN = 10.0
LIMIT = 30.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Event:
    """A goal, red card or penalty: when it happened, reached the book, and was folded (None:
    never, the feed's worker is dead)."""

    occurred: float
    received: float
    processed: float | None


@dataclass(frozen=True)
class Timeline:
    events: list[Event]
    trader: list[tuple[float, float]]  # a trader's suspensions, (from, to)
    bets: list[tuple[float, float]]  # (placed at, the worker's lateness after the delay)
    closed_at: float | None  # full time: the match closes for good


def suspensions(timeline: Timeline) -> list[tuple[float, float]]:
    """When the markets were actually suspended: from each folded event for REOPEN seconds (a
    later one moves the end on), and each trader's suspension; merged."""
    spans = sorted(
        [(e.processed, e.processed + REOPEN) for e in timeline.events if e.processed is not None] + timeline.trader
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_at(timeline: Timeline, t: float) -> bool:
    closed = timeline.closed_at is not None and t >= timeline.closed_at
    return not closed and not any(start <= t <= end for start, end in suspensions(timeline))


def interruptions_seen(timeline: Timeline, placed: float, decide: float, now: float) -> list[Interruption]:
    """What a worker reading the logs at `now` is given for a delay from `placed` to `decide`."""
    found = []
    # The status log: each change away from open inside the delay, once written.
    changes = [(start, SUSPENDED_DURING_DELAY) for start, _ in suspensions(timeline)]
    if timeline.closed_at is not None:
        changes.append((timeline.closed_at, MARKET_CLOSED))
    for when, reason in changes:
        if placed <= when <= decide and when <= now:
            found.append(Interruption(start=at(when), end=None, reason=reason))
    # The feed's log: events received by the end of the delay; the worker's stamp as seen now.
    for event in timeline.events:
        processed = event.processed if event.processed is not None and event.processed <= now else None
        if event.received > decide:
            continue
        if processed is not None and processed < placed and event.occurred < placed:
            continue
        found.append(
            Interruption(
                start=at(min(event.occurred, event.received)),
                end=None if processed is None else at(max(event.occurred, processed)),
                reason=SUSPENDED_DURING_DELAY,
            )
        )
    return found


def verdict(timeline: Timeline, placed: float, lateness: float) -> str | None:
    decide = placed + DELAY
    now = decide + lateness
    return delay_verdict(
        placed_at=at(placed),
        decide_at=at(decide),
        decided_at=at(now),
        interruptions=interruptions_seen(timeline, placed, decide, now),
        quoted=Decimal("2.10"),
        price_then=Decimal("2.10"),
        accept_odds_change="none",
    )


seconds = st.floats(min_value=0, max_value=120, allow_nan=False)
events = st.builds(
    lambda occurred, lag, work, dead: Event(occurred, occurred + lag, None if dead else occurred + lag + work),
    occurred=seconds,
    lag=st.floats(min_value=-0.5, max_value=4.0),  # a provider's clock a little ahead, or a slow feed
    work=st.floats(min_value=0.0, max_value=8.0),  # the feed worker's backlog
    dead=st.integers(0, 7).map(lambda n: n == 0),  # one in eight never folded
)
timelines = st.builds(
    Timeline,
    events=st.lists(events, max_size=6),
    trader=st.lists(
        st.tuples(seconds, st.floats(min_value=0.5, max_value=20.0)).map(lambda p: (p[0], p[0] + p[1])), max_size=2
    ),
    bets=st.lists(
        st.tuples(seconds, st.floats(min_value=0.0, max_value=45.0) | st.floats(min_value=0.0, max_value=2.0)),
        min_size=1,
        max_size=8,
    ),
    closed_at=st.none() | st.floats(min_value=60, max_value=130),
)


@settings(max_examples=1000, deadline=1000)
@given(timeline=timelines, other_lateness=st.floats(min_value=0.0, max_value=LIMIT))
def test_no_accepted_bet_has_a_suspension_or_material_event_in_its_delay(
    timeline: Timeline, other_lateness: float
) -> None:
    """1,000 random timelines of events (some never folded), trader suspensions, full time and
    bets decided by workers on time, late, or past the limit."""
    for placed, lateness in timeline.bets:
        if not open_at(timeline, placed):
            continue  # refused at once (409 market_suspended), never pending
        outcome = verdict(timeline, placed, lateness)
        decide = placed + DELAY
        if lateness > LIMIT:
            assert outcome == TIMED_OUT
            continue
        # A worker late by any other time within the limit decides the same way.
        assert verdict(timeline, placed, other_lateness) == outcome
        if outcome is not None:
            continue
        for start, end in suspensions(timeline):
            assert not (start <= decide and end >= placed), (placed, start, end)
        if timeline.closed_at is not None:
            assert timeline.closed_at > decide
        for event in timeline.events:
            if event.received <= decide:  # what the book knew when the delay ended
                assert not placed <= event.occurred <= decide, (placed, event)
                assert not placed <= event.received <= decide, (placed, event)
