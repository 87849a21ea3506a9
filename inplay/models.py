"""The match feed: who may post events, the append-only log of events, and each match's state."""

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from betting.models import Match
from inplay import state as fold_state
from inplay.state import Kind, Period


class FeedProvider(models.Model):
    """A source of match events, with a credential of its own: a token, kept only as its
    SHA-256 (a random 256-bit token needs no slow hash). The first provider to post an event
    for a match feeds that match; sequence numbers are the provider's."""

    name = models.SlugField(max_length=50, unique=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class FeedEvent(models.Model):
    """One event of a match as the provider sent it; never changed, never deleted.

    Only the worker's processing stamps (`processed_at`, `lag_ms`) are written later, by a
    queryset update: `save()` refuses an event that exists.
    """

    provider = models.ForeignKey(FeedProvider, on_delete=models.PROTECT, related_name="events")
    provider_event_id = models.CharField(max_length=100)
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="feed_events")
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.value.replace("_", " ")) for kind in Kind])
    team = models.CharField(max_length=4, blank=True, default="")
    minute = models.PositiveSmallIntegerField(null=True, blank=True)
    cancels = models.CharField(max_length=100, blank=True, default="")  # goal disallowed: the goal's event id
    home_goals = models.PositiveSmallIntegerField(null=True, blank=True)  # result correction: the final score
    away_goals = models.PositiveSmallIntegerField(null=True, blank=True)
    clock_rate = models.FloatField(null=True, blank=True)  # kick-off: match minutes per real minute
    occurred_at = models.DateTimeField()  # the provider's time of the event
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    lag_ms = models.FloatField(null=True, blank=True)  # occurred_at to processed_at

    class Meta:
        ordering = ["match", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_event_id"], name="feed_event_unique_provider_id"),
            models.UniqueConstraint(fields=["provider", "match", "sequence"], name="feed_event_unique_sequence"),
        ]
        indexes = [
            models.Index(fields=["processed_at"], name="feed_event_unprocessed", condition=models.Q(processed_at=None))
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.provider_event_id} #{self.sequence} {self.kind}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Feed events are append-only: post a new event (a disallowed goal, a correction).")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class MatchState(models.Model):
    """A match's current state, the fold of its feed log: one row per match, rewritten by the
    worker (under the match row lock) each time it folds new events. For reads only: the log
    is the truth."""

    match = models.OneToOneField(Match, on_delete=models.CASCADE, primary_key=True, related_name="live_state")
    period = models.CharField(max_length=12, choices=[(p.value, p.value.replace("_", " ")) for p in Period])
    home_score = models.PositiveSmallIntegerField(default=0)
    away_score = models.PositiveSmallIntegerField(default=0)
    home_red_cards = models.PositiveSmallIntegerField(default=0)
    away_red_cards = models.PositiveSmallIntegerField(default=0)
    kicked_off_at = models.DateTimeField(null=True, blank=True)
    second_half_at = models.DateTimeField(null=True, blank=True)
    clock_rate = models.FloatField(default=1.0)
    last_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    events_folded = models.PositiveIntegerField(default=0)
    last_sequence = models.PositiveBigIntegerField(default=0)
    # When the markets the feed suspended last may reopen.
    suspended_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["period"], name="match_state_period")]

    def __str__(self) -> str:
        return f"{self.match_id}: {self.period} {self.home_score}-{self.away_score}"

    def clock(self, now: datetime | None = None) -> dict[str, Any]:
        """The match clock at `now`: the minute, whether it runs, and its rate (match minutes per
        real minute), so a page can run it on between frames."""
        state = fold_state.MatchState(
            period=Period(self.period),
            kicked_off_at=self.kicked_off_at,
            second_half_at=self.second_half_at,
            clock_rate=self.clock_rate,
            last_minute=self.last_minute,
        )
        minute = fold_state.clock_minute(state, now or timezone.now())
        return {
            "minute": minute,
            "text": fold_state.clock_text(self.period, minute),
            "running": self.period in fold_state.PLAYING,
            "rate": self.clock_rate,
        }

    def as_frame(self, now: datetime | None = None) -> dict[str, Any]:
        """The live state as the `match`, `odds` and `snapshot` frames and the API carry it."""
        return {
            "period": self.period,
            "clock": self.clock(now),
            "score": {"home": self.home_score, "away": self.away_score},
            "red_cards": {"home": self.home_red_cards, "away": self.away_red_cards},
            "seq": self.events_folded,
        }
