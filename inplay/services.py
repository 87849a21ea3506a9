"""Writes of the match feed: appending events to the log, folding them into the match's state,
and moving the match's markets with it (suspend, reopen, close, settle, settle again).

Nothing is lost on a crash: the feed endpoint answers only after the event is committed to the
log (a provider retries until it gets an answer, and a retry is a harmless duplicate); the
processing task is enqueued after that commit, and beat's sweep processes every event still
unprocessed after INPLAY_SWEEP_SECONDS, should the enqueue or the worker have failed.
Processing folds the whole log again, so running it twice, or late, gives the same state.

Lock order: the match row (as every betting write), then the match's state row.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from betting.models import Match, MatchStatus
from betting.pricing import match_odds_recompute
from betting.settlement import match_lock, match_result_correct, match_transition
from inplay import events, jobs, selectors
from inplay.errors import FeedEventConflict, FeedMatchNotFound, MatchFedByAnotherProvider
from inplay.models import FeedEvent, FeedProvider, MatchState
from inplay.state import SUSPENDING, Kind, Period, fold
from inplay.state import MatchState as FoldedState

logger = logging.getLogger(__name__)

# Suspensions the feed decided, which it lifts by itself; a trader's it never touches.
FEED_REASONS = frozenset(SUSPENDING.values())
# Fields two posts of one event must agree on to be the same event.
EVENT_FIELDS = ("match_id", "sequence", "kind", "team", "minute", "cancels", "home_goals", "away_goals", "clock_rate")


@dataclass(frozen=True)
class IncomingEvent:
    """An event as the provider posts it (validated by the API's serializer)."""

    event_id: str
    match_id: int
    sequence: int
    kind: str
    occurred_at: datetime
    team: str = ""
    minute: int | None = None
    cancels: str = ""
    final_score: tuple[int, int] | None = None
    clock_rate: float | None = None

    def as_row(self, provider: FeedProvider) -> FeedEvent:
        home, away = self.final_score if self.final_score is not None else (None, None)
        return FeedEvent(
            provider=provider,
            provider_event_id=self.event_id,
            match_id=self.match_id,
            sequence=self.sequence,
            kind=self.kind,
            team=self.team,
            minute=self.minute,
            cancels=self.cancels,
            home_goals=home,
            away_goals=away,
            clock_rate=self.clock_rate,
            occurred_at=self.occurred_at,
        )


def feed_event_append(*, provider: FeedProvider, incoming: IncomingEvent) -> tuple[FeedEvent, bool]:
    """Append an event to its match's log and ask a worker to process it; returns the event and
    whether it is new. The same event posted again (same provider event id, same content) is a
    duplicate: nothing changes. A different event under a taken id or sequence number is a
    conflict (409); so is an event for a match another provider feeds."""
    if not Match.objects.filter(pk=incoming.match_id).exists():
        message = f"Match {incoming.match_id} does not exist."
        raise FeedMatchNotFound(message, errors={"match": [message]})
    row = incoming.as_row(provider)
    try:
        with transaction.atomic():
            owner = FeedEvent.objects.filter(match_id=incoming.match_id).exclude(provider=provider).first()
            if owner is not None:
                raise MatchFedByAnotherProvider(
                    f"Match {incoming.match_id} is fed by another provider.", match=incoming.match_id
                )
            row.save()
            transaction.on_commit(lambda: feed_events_process_request(match_id=incoming.match_id))
            return row, True
    except IntegrityError:
        pass  # the id or the sequence is taken: the same event again, or a conflict
    existing = FeedEvent.objects.filter(provider=provider, provider_event_id=incoming.event_id).first()
    if existing is not None and all(getattr(existing, name) == getattr(row, name) for name in EVENT_FIELDS):
        return existing, False
    taken = existing or FeedEvent.objects.get(provider=provider, match_id=incoming.match_id, sequence=incoming.sequence)
    raise FeedEventConflict(
        f"Event {taken.provider_event_id} (sequence {taken.sequence}, {taken.kind}) is already in the log and "
        "differs: the log keeps the first.",
        event=taken.provider_event_id,
        sequence=taken.sequence,
    )


def feed_events_process_request(*, match_id: int) -> None:
    try:
        jobs.feed_events_process_enqueue(match_id=match_id)
    except Exception:
        # The event is committed: beat's sweep processes it (INPLAY_SWEEP_SECONDS).
        logger.exception("Could not enqueue the processing of match %s's feed events", match_id)


def match_feed_process(*, match_id: int) -> int:
    """Fold the match's log with the events not yet processed; write the match's state row,
    move its markets and publish one `match` frame; then price the match's markets again for
    its new state. Returns the events processed (0: none was new, e.g. a second task for
    events the first one took)."""
    with transaction.atomic():
        match = match_lock(match_id)
        log = selectors.match_log(match_id)
        fresh = [event for event in log if event.processed_at is None]
        if not fresh:
            return 0
        folded = fold(selectors.feed_item(event) for event in log)
        row = MatchState.objects.select_for_update().filter(match=match).first() or MatchState(match=match)
        match_state_write(row, folded)
        now = timezone.now()
        for event in fresh:
            # A provider's clock a little ahead of ours reads as no lag, not a negative one.
            lag_ms = max(0.0, (now - event.occurred_at).total_seconds() * 1000)
            FeedEvent.objects.filter(pk=event.pk).update(processed_at=now, lag_ms=lag_ms)
        outcomes = {outcome.event_id: outcome for outcome in folded.outcomes}
        applied = [event for event in fresh if outcomes[event.provider_event_id].applied]
        match = match_markets_follow(match, row, folded, applied, now)
        events.match_feed_publish_on_commit(match, row, [(event, outcomes[event.provider_event_id]) for event in fresh])
    logger.info(
        "Match %s: %s feed events processed, %s %s-%s",
        match_id,
        len(fresh),
        folded.period,
        *folded.score,
        extra={"match": match_id},
    )
    # After the commit that suspended the markets and published it: the suspension reaches the
    # sockets without waiting for the engine, and the markets reopen at these prices.
    match_in_play_reprice(match_id=match_id)
    return len(fresh)


def match_in_play_reprice(*, match_id: int) -> None:
    """Price a match in play again for its state (none after full time: it is settled)."""
    try:
        match_odds_recompute(match_id=match_id, reprice=True)
    except Exception:
        # The state is committed and published; the clock's repricing (beat) follows it.
        logger.exception("Could not price match %s for its new state", match_id, extra={"match": match_id})


def in_play_reprice_request(*, limit: int | None = None) -> list[int]:
    """What beat runs every INPLAY_REPRICE_SECONDS: ask for one `odds` recompute of each match
    in play whose markets are open or suspended, so its prices follow the clock. Bounded: at
    most INPLAY_REPRICE_MAX_MATCHES a run, those priced longest ago first."""
    limit = settings.INPLAY_REPRICE_MAX_MATCHES if limit is None else limit
    match_ids = list(
        Match.objects.filter(in_play=True, status__in=(MatchStatus.OPEN, MatchStatus.SUSPENDED))
        .order_by("odds_updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for match_id in match_ids:
        try:
            jobs.in_play_reprice_enqueue(match_id=match_id)
        except Exception:
            logger.exception("Could not enqueue the repricing of match %s: the next run will", match_id)
            break
    return match_ids


def match_state_write(row: MatchState, folded: FoldedState) -> None:
    row.period = folded.period
    row.home_score, row.away_score = folded.score
    row.home_red_cards, row.away_red_cards = folded.red_cards
    row.kicked_off_at, row.second_half_at = folded.kicked_off_at, folded.second_half_at
    row.clock_rate, row.last_minute = folded.clock_rate, folded.last_minute
    row.events_folded, row.last_sequence = folded.events, folded.last_sequence
    row.save()


def match_markets_follow(
    match: Match, row: MatchState, folded: FoldedState, applied: list[FeedEvent], now: datetime
) -> Match:
    """Bring the match's markets in line with its state (called with the match row locked):

    - in play from the kick-off to full time (`Match.in_play`); a match the kick-off sweep
      closed a moment before the feed's kick-off reopens as it goes in play;
    - a counted goal, disallowed goal, red card or penalty suspends open markets at once, with
      the reason, until INPLAY_REOPEN_SECONDS after the latest such event;
    - full time closes the match and settles it on the final score; a final score that changes
      afterwards (a correction, a late event) settles it again.
    """
    went_live = folded.live and not match.in_play
    if match.in_play != folded.live:
        match.in_play = folded.live
        match.save(update_fields=["in_play"])
    if went_live and match.status == MatchStatus.CLOSED:
        match = match_transition(match_id=match.pk, status=MatchStatus.OPEN, publish=False)

    suspending = [event for event in applied if event.kind in SUSPENDING]
    if folded.live and suspending:
        reason = SUSPENDING[Kind(suspending[-1].kind)]
        if match.status == MatchStatus.OPEN:
            match = match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED, reason=reason, publish=False)
        elif match.status == MatchStatus.SUSPENDED and match.suspended_reason in FEED_REASONS:
            match.suspended_reason = reason
            match.save(update_fields=["suspended_reason"])
        if match.status == MatchStatus.SUSPENDED and match.suspended_reason in FEED_REASONS:
            reopen_in = settings.INPLAY_REOPEN_SECONDS
            row.suspended_until = now + timedelta(seconds=reopen_in)
            row.save(update_fields=["suspended_until"])
            transaction.on_commit(lambda: markets_reopen_request(match_id=match.pk, countdown=reopen_in))

    if folded.period == Period.FULL_TIME and folded.result is not None:
        if match.status in (MatchStatus.OPEN, MatchStatus.SUSPENDED):
            match = match_transition(match_id=match.pk, status=MatchStatus.CLOSED, publish=False)
        if match.status == MatchStatus.CLOSED:
            match = match_transition(match_id=match.pk, status=MatchStatus.SETTLED, score=folded.score, publish=False)
        elif match.status == MatchStatus.SETTLED and match.final_score != folded.score:
            # Every market settles from the score: a change that keeps the 1X2 result still counts.
            match = match_result_correct(match_id=match.pk, score=folded.score, publish=False)
    return match


def markets_reopen_request(*, match_id: int, countdown: float) -> None:
    try:
        jobs.markets_reopen_enqueue(match_id=match_id, countdown=countdown)
    except Exception:
        logger.exception("Could not enqueue the reopening of match %s's markets: the sweep will", match_id)


def match_markets_reopen(*, match_id: int, now: datetime | None = None) -> bool:
    """Reopen the markets the feed suspended once their time has come; returns whether it did.

    Early, it does nothing: a later event moved the time on and has its own countdown, or the
    countdown ran short (a worker's clock ahead of the sender's) and beat's sweep reopens them
    within INPLAY_SWEEP_SECONDS. A trader's suspension, or markets a trader reopened already,
    are left as they are.
    """
    now = now or timezone.now()
    with transaction.atomic():
        match = match_lock(match_id)
        row = MatchState.objects.select_for_update().filter(match=match).first()
        feed_suspended = match.status == MatchStatus.SUSPENDED and match.suspended_reason in FEED_REASONS
        if not (feed_suspended and match.in_play and row is not None and row.suspended_until is not None):
            return False
        if row.suspended_until > now:
            return False  # a later event moved the time on (its own countdown follows), or a clock ran ahead
        match = match_transition(match_id=match_id, status=MatchStatus.OPEN, publish=False)
        row.suspended_until = None
        row.save(update_fields=["suspended_until"])
        events.match_feed_publish_on_commit(match, row, [])
    logger.info("Match %s: markets reopened after the feed's suspension", match_id, extra={"match": match_id})
    return True


def feed_sweep(*, now: datetime | None = None) -> dict[str, list[int]]:
    """What beat runs every INPLAY_SWEEP_SECONDS: process the matches whose events still wait
    (their task was lost), and reopen the markets whose suspension is over (their countdown
    was lost). Both are what a lost task would have done, done again."""
    now = now or timezone.now()
    waiting_since = now - timedelta(seconds=settings.INPLAY_SWEEP_SECONDS)
    stale = sorted(
        set(
            FeedEvent.objects.filter(processed_at=None, received_at__lte=waiting_since).values_list(
                "match_id", flat=True
            )
        )
    )
    for match_id in stale:
        match_feed_process(match_id=match_id)
    due = list(
        MatchState.objects.filter(
            suspended_until__lte=now,
            match__status=MatchStatus.SUSPENDED,
            match__suspended_reason__in=FEED_REASONS,
        ).values_list("match_id", flat=True)
    )
    reopened = [match_id for match_id in due if match_markets_reopen(match_id=match_id, now=now)]
    return {"processed": stale, "reopened": reopened}
