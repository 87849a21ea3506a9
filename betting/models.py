"""Matches, their 1X2 odds and every published version of them, and bets."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class Selection(models.TextChoices):
    HOME = "home", "Home"
    DRAW = "draw", "Draw"
    AWAY = "away", "Away"


class MatchStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"
    SETTLED = "settled", "Settled"
    VOID = "void", "Void"


# Prices: decimal odds up to 1000.00. Money: two places, never float.


class Match(models.Model):
    """A match and the current prices of its 1X2 market.

    `odds_version` rises by exactly one per published change. `bet_sequence` counts the bets
    placed on the match: each bet takes the next number while holding this row's lock, so
    the numbers are in commit order and `bets_counted` (the sequence the current odds
    include) is a high-water mark the worker and the reconciler can trust.
    """

    home_team = models.CharField(max_length=100)
    away_team = models.CharField(max_length=100)
    kickoff = models.DateTimeField()
    status = models.CharField(max_length=16, choices=MatchStatus, default=MatchStatus.SCHEDULED)
    result = models.CharField(max_length=8, choices=Selection, blank=True, default="")

    opening_home = models.DecimalField(max_digits=7, decimal_places=2)
    opening_draw = models.DecimalField(max_digits=7, decimal_places=2)
    opening_away = models.DecimalField(max_digits=7, decimal_places=2)

    odds_home = models.DecimalField(max_digits=7, decimal_places=2)
    odds_draw = models.DecimalField(max_digits=7, decimal_places=2)
    odds_away = models.DecimalField(max_digits=7, decimal_places=2)
    odds_version = models.PositiveIntegerField(default=1)
    odds_updated_at = models.DateTimeField(auto_now_add=True)

    bet_sequence = models.PositiveBigIntegerField(default=0)
    bets_counted = models.PositiveBigIntegerField(default=0)
    # Derived markets priced with the current odds: {"over_under_2_5": {"over": "1.90", ...}, ...}.
    markets = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kickoff", "id"]
        verbose_name_plural = "matches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bets_counted__lte=models.F("bet_sequence")),
                name="match_bets_counted_not_ahead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.home_team} v {self.away_team}"

    @property
    def opening_prices(self) -> dict[str, Decimal]:
        return {"home": self.opening_home, "draw": self.opening_draw, "away": self.opening_away}

    @property
    def current_prices(self) -> dict[str, Decimal]:
        return {"home": self.odds_home, "draw": self.odds_draw, "away": self.odds_away}

    def price_of(self, selection: str) -> Decimal:
        return self.current_prices[selection]


class OddsVersion(models.Model):
    """One published version of a match's prices: the odds history."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="odds_versions")
    version = models.PositiveIntegerField()
    home = models.DecimalField(max_digits=7, decimal_places=2)
    draw = models.DecimalField(max_digits=7, decimal_places=2)
    away = models.DecimalField(max_digits=7, decimal_places=2)
    bets_counted = models.PositiveBigIntegerField(default=0)
    markets = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now_add=True)
    # Oldest counted bet's commit to publish, in milliseconds (null for opening prices).
    pipeline_latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["match", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["match", "version"], name="odds_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.match_id} v{self.version}: {self.home}/{self.draw}/{self.away}"


class MatchBook(models.Model):
    """Running totals of the money a match's current odds count, per selection.

    Written only by the odds recompute, holding the match row lock, in the same transaction
    that moves `Match.bets_counted`: the totals are always exactly those of the bets with
    `sequence <= bets_counted`, so a recompute adds only the newer bets, whatever the number
    already taken. Payouts are Σ stake x odds taken (four places: both factors have two).
    """

    match = models.OneToOneField(Match, on_delete=models.CASCADE, primary_key=True, related_name="book")
    stake_home = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    stake_draw = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    stake_away = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    payout_home = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal(0))
    payout_draw = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal(0))
    payout_away = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal(0))

    def __str__(self) -> str:
        return f"Book of match {self.match_id}"

    @property
    def stakes(self) -> dict[str, Decimal]:
        return {"home": self.stake_home, "draw": self.stake_draw, "away": self.stake_away}

    @property
    def payouts(self) -> dict[str, Decimal]:
        return {"home": self.payout_home, "draw": self.payout_draw, "away": self.payout_away}

    def add_bet(self, *, selection: str, stake: Decimal, odds: Decimal) -> None:
        if selection not in Selection.values:
            raise ValueError(f"Unknown selection {selection!r}")
        setattr(self, f"stake_{selection}", getattr(self, f"stake_{selection}") + stake)
        setattr(self, f"payout_{selection}", getattr(self, f"payout_{selection}") + stake * odds)


class BetStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    VOID = "void", "Void"


class Bet(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bets")
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="bets")
    selection = models.CharField(max_length=8, choices=Selection)
    stake = models.DecimalField(max_digits=14, decimal_places=2)
    odds = models.DecimalField(max_digits=7, decimal_places=2)  # the price the bet was struck at
    odds_version = models.PositiveIntegerField()
    sequence = models.PositiveBigIntegerField()  # position among the match's bets
    status = models.CharField(max_length=8, choices=BetStatus, default=BetStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["match", "sequence"], name="bet_sequence_unique"),
            models.CheckConstraint(condition=models.Q(stake__gt=0), name="bet_stake_positive"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"Bet {self.pk}: {self.stake} on {self.selection} @ {self.odds}"
