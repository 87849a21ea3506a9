"""Matches, their markets and every published version of their prices, and bets."""

import uuid
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


class SuspensionReason(models.TextChoices):
    """Why a match's betting is suspended: an event of the match from the feed, or a trader."""

    GOAL = "goal", "Goal"
    RED_CARD = "red_card", "Red card"
    PENALTY = "penalty", "Penalty"
    TRADER = "trader", "Trader"


# Prices: decimal odds up to 1000.00. Money: two places, never float.


class MarketStatus(models.TextChoices):
    """A market's own status. It follows its match's lifecycle (`MARKET_STATUS_OF_MATCH`)."""

    OPEN = "open", "Open"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"
    SETTLED = "settled", "Settled"
    VOID = "void", "Void"


# A market's status while its match is in each status: a scheduled match's markets are priced
# but take no bets yet (suspended), and reopen with it.
MARKET_STATUS_OF_MATCH: dict[str, str] = {
    MatchStatus.SCHEDULED: MarketStatus.SUSPENDED,
    MatchStatus.OPEN: MarketStatus.OPEN,
    MatchStatus.SUSPENDED: MarketStatus.SUSPENDED,
    MatchStatus.CLOSED: MarketStatus.CLOSED,
    MatchStatus.SETTLED: MarketStatus.SETTLED,
    MatchStatus.VOID: MarketStatus.VOID,
}


class PriorSource(models.TextChoices):
    """Where a match's score distribution comes from."""

    MODEL = "model", "Team model"
    TRADER = "trader", "Trader's 1X2 odds"


class Match(models.Model):
    """A match, its score distribution, its markets' lifecycle and the current 1X2 prices.

    The 1X2 columns (`opening_*`, `odds_*`) mirror the `1x2` market: written by the same
    recompute in the same transaction, they keep the seed's `cotes_update` and the board
    reading one row. Every market, 1X2 included, is a `Market` row.

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
    # The final score every market settles from (null until settled; a void match has none).
    home_goals = models.PositiveSmallIntegerField(null=True, blank=True)
    away_goals = models.PositiveSmallIntegerField(null=True, blank=True)
    # Raised by each correction of the score: a bet settled under an older one is settled again.
    result_version = models.PositiveIntegerField(default=0)
    # Set while the match is suspended, empty otherwise.
    suspended_reason = models.CharField(max_length=16, choices=SuspensionReason, blank=True, default="")
    # The feed says the match is being played (kick-off to full time): written by the in-play
    # worker under this row's lock. Its markets may then be open after the kick-off time (the
    # clock check still refuses pre-match bets) and the kick-off sweep leaves it alone.
    in_play = models.BooleanField(default=False)

    opening_home = models.DecimalField(max_digits=7, decimal_places=2)
    opening_draw = models.DecimalField(max_digits=7, decimal_places=2)
    opening_away = models.DecimalField(max_digits=7, decimal_places=2)

    # Null while that selection is closed (the engine gives it no price).
    odds_home = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    odds_draw = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    odds_away = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    odds_version = models.PositiveIntegerField(default=1)
    odds_updated_at = models.DateTimeField(auto_now_add=True)

    bet_sequence = models.PositiveBigIntegerField(default=0)
    bets_counted = models.PositiveBigIntegerField(default=0)
    # The score distribution every market is priced from, stored at opening (or by a trader's
    # override) so the recompute fits nothing: {"matrix": 11x11 floats, "home_goals": lambda,
    # "away_goals": mu, "rho": rho, "source": "model" | "trader", "fit_id": n | null}.
    score_prior = models.JSONField(default=dict, blank=True)
    # The Asian handicap lines (home handicaps) chosen once at opening; never moved.
    asian_handicap_lines = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kickoff", "id"]
        verbose_name_plural = "matches"
        # Staff powers, held by the `traders` group: checked the same way by the API and the admin.
        permissions = [
            ("trade_match", "Can create matches and open, suspend or close their betting"),
            ("settle_match", "Can settle or void matches (pays or refunds every bet)"),
        ]
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
    def current_prices(self) -> dict[str, Decimal | None]:
        return {"home": self.odds_home, "draw": self.odds_draw, "away": self.odds_away}

    @property
    def final_score(self) -> tuple[int, int] | None:
        if self.home_goals is None or self.away_goals is None:
            return None
        return self.home_goals, self.away_goals


class Market(models.Model):
    """One bettable market of a match: its status, its current price and maximum stake per
    selection, and the running totals of the money it has taken.

    Prices, maximum stakes and totals are written only by the odds recompute, holding the
    match row lock, in the transaction that raises the match's `odds_version`: one version
    covers every market. The status follows the match's lifecycle (`match_transition`).
    Prices and amounts are two-place decimal strings; a closed selection's price is null.
    The totals are those of the bets with `sequence <= Match.bets_counted`, exactly, as the
    1X2 book's were: payouts are Σ stake x odds taken (four places).
    """

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="market_rows")
    key = models.CharField(max_length=40)  # betting.engine.markets: "1x2", "over_under_2_5", ...
    position = models.PositiveSmallIntegerField(default=0)  # the catalogue's order
    status = models.CharField(max_length=16, choices=MarketStatus, default=MarketStatus.OPEN)
    prices = models.JSONField(default=dict)  # {selection: "2.10" | null}
    max_stakes = models.JSONField(default=dict)  # {selection: "1234.56" | null}
    # The engine's fair (margin-free) probability of each selection, given the bet is not void,
    # at the current prices: what a cash-out offer is worth ({selection: 0.4213}).
    probabilities = models.JSONField(default=dict)
    stakes = models.JSONField(default=dict)  # {selection: "100.00"}
    payouts = models.JSONField(default=dict)  # {selection: "210.0000"}
    # In play, the selections the score has already decided, whatever the goals to come
    # ({"over": "won", "under": "lost"} once a goal is in over 0.5): closed, with no price.
    decided = models.JSONField(default=dict)

    class Meta:
        ordering = ["match", "position"]
        constraints = [models.UniqueConstraint(fields=["match", "key"], name="market_key_unique_per_match")]

    def __str__(self) -> str:
        return f"{self.match_id} {self.key} ({self.status})"


class PriceOverride(models.Model):
    """A trader's override of a match's opening prices: who, when, the 1X2 odds typed, and
    the score distribution they replaced and set. Never edited."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="price_overrides")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    odds = models.JSONField()  # {"home": "2.10", "draw": "3.40", "away": "3.50"}, as typed
    prior = models.JSONField()  # what it set: {"home_goals", "away_goals", "rho", "source"}
    replaced = models.JSONField(default=dict, blank=True)  # the prior before it, same keys

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Override of match {self.match_id} at {self.created_at:%Y-%m-%d %H:%M}"


class OddsVersion(models.Model):
    """One published version of a match's prices: the odds history."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="odds_versions")
    version = models.PositiveIntegerField()
    home = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    draw = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    away = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    bets_counted = models.PositiveBigIntegerField(default=0)
    # Every market's prices at this version: {market key: {selection: "2.10" | null}}.
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


class BetStatus(models.TextChoices):
    # An in-play bet waits out the bet delay as `pending` (its stake held, not debited), then is
    # accepted (`open`, the stake debited) or `rejected` (the hold released): betting/delay.py.
    PENDING = "pending", "Pending"
    REJECTED = "rejected", "Rejected"
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    VOID = "void", "Void"
    CASHED_OUT = "cashed_out", "Cashed out"  # settled early at an accepted cash-out quote; never settled again


# Statuses of a bet that settlement has not paid: it has no payout.
UNSETTLED_BET_STATUSES = ("pending", "rejected", "open")


class BetKind(models.TextChoices):
    SINGLE = "single", "Single"
    ACCUMULATOR = "accumulator", "Accumulator"


class Bet(models.Model):
    """A bet: a single (one selection of one match: `match`, `market`, `selection`, `sequence`)
    or an accumulator (its selections are its `legs`, each on a different match; `match` and
    `sequence` are null, `market` and `selection` empty, `odds` the combined odds struck)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bets")
    kind = models.CharField(max_length=12, choices=BetKind, default=BetKind.SINGLE)
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="bets", null=True, blank=True)
    market = models.CharField(max_length=40, default="1x2", blank=True)  # a `Market.key` of the match
    selection = models.CharField(max_length=16, blank=True)  # one of the market's selections
    stake = models.DecimalField(max_digits=14, decimal_places=2)
    # The price the bet was struck at; an accumulator's combined odds (the legs' product, capped).
    odds = models.DecimalField(max_digits=7, decimal_places=2)
    odds_version = models.PositiveIntegerField()  # 0 for an accumulator: each leg has its own
    # Position among the match's accepted bets: a pending in-play bet takes its number when the
    # delay accepts it, so the book (and `bets_counted`) never counts a bet it may still reject.
    # Null for an accumulator: its legs take the places.
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=BetStatus, default=BetStatus.OPEN)
    # What settlement credited: stake * odds for a winner, the stake for a void, 0 for a loser.
    payout = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Which settlement of the bet `payout` comes from: 0 for the first; a corrected result
    # settles the bet again as 1, 2, ... (its ledger entries carry the same number).
    settlement_round = models.PositiveSmallIntegerField(default=0)
    # The match's `result_version` the bet was last settled under.
    result_version = models.PositiveIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # In play: when the bet delay ends and a worker decides (null: a pre-match bet, no delay).
    decide_at = models.DateTimeField(null=True, blank=True)
    # Why a pending bet was rejected (`suspended_during_delay`, `odds_changed`, `timed_out`, ...).
    reason = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["match", "sequence"], name="bet_sequence_unique"),
            models.CheckConstraint(condition=models.Q(stake__gt=0), name="bet_stake_positive"),
            # A single names its match; an accumulator's legs do, and take the places in the book.
            models.CheckConstraint(
                condition=models.Q(kind="single", match__isnull=False)
                | models.Q(kind="accumulator", match__isnull=True, sequence__isnull=True),
                name="bet_single_has_match_accumulator_has_legs",
            ),
            # An unsettled bet (pending, rejected or open) has no payout; a settled one always has one.
            models.CheckConstraint(
                condition=(models.Q(status__in=UNSETTLED_BET_STATUSES, payout__isnull=True, settled_at__isnull=True))
                | (~models.Q(status__in=UNSETTLED_BET_STATUSES) & models.Q(payout__gte=0, settled_at__isnull=False)),
                name="bet_payout_iff_settled",
            ),
            # Only an accepted single has a place in the match's book (an accumulator's legs do).
            models.CheckConstraint(
                condition=models.Q(kind="accumulator")
                | models.Q(status__in=["pending", "rejected"], sequence__isnull=True)
                | (~models.Q(status__in=["pending", "rejected"]) & models.Q(sequence__isnull=False)),
                name="bet_sequence_iff_accepted",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        if self.kind == BetKind.ACCUMULATOR:
            return f"Bet {self.pk}: {self.stake} on an accumulator @ {self.odds}"
        return f"Bet {self.pk}: {self.stake} on {self.selection} @ {self.odds}"


class BetLeg(models.Model):
    """One selection of an accumulator, on its own match, struck at its own price.

    A leg takes a place in its match's bet sequence (`Match.bet_sequence`, shared with the
    singles: one counter, so (match, sequence) is unique across both tables), so the odds
    recompute counts the accumulator's money on the leg's selection as it counts a single's.
    The leg is graded when its match settles (`status`, under the match's `result_version`);
    the accumulator is settled from its legs (betting.engine.accumulators)."""

    bet = models.ForeignKey(Bet, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveSmallIntegerField()  # the order the bettor gave
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="bet_legs")
    market = models.CharField(max_length=40)
    selection = models.CharField(max_length=16)
    odds = models.DecimalField(max_digits=7, decimal_places=2)  # this leg's price when struck
    odds_version = models.PositiveIntegerField()
    sequence = models.PositiveBigIntegerField()  # position among the match's bets, singles included
    status = models.CharField(max_length=12, choices=BetStatus, default=BetStatus.OPEN)  # open, won, lost, void
    result_version = models.PositiveIntegerField(default=0)  # the match's result_version it was graded under

    class Meta:
        ordering = ["bet", "position"]
        constraints = [
            models.UniqueConstraint(fields=["match", "sequence"], name="bet_leg_sequence_unique"),
            # Legs of one match are correlated: an accumulator takes one leg per match.
            models.UniqueConstraint(fields=["bet", "match"], name="bet_leg_one_per_match"),
            models.UniqueConstraint(fields=["bet", "position"], name="bet_leg_position_unique"),
        ]
        indexes = [models.Index(fields=["match", "status"], name="bet_leg_match_status")]

    def __str__(self) -> str:
        return f"Leg {self.position} of bet {self.bet_id}: {self.market} {self.selection} @ {self.odds}"


class Wallet(models.Model):
    """A user's money. `balance` is a cache of the sum of the wallet's ledger entries.

    Every change locks this row (after the match row, when one is involved), writes one
    ledger entry and updates `balance` in the same transaction; the check constraint is the
    last line of defence against an overdraft.

    `held` is the part of the balance set aside for outcomes still pending (`WalletHold`): a
    withdrawal the payment provider has not confirmed yet, say. It stays in the balance (no
    ledger entry has moved it) but nothing may spend it: what a bet or a withdrawal may take
    is `available`, the balance less what is held.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    balance = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    held = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="wallet_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(held__gte=0), name="wallet_held_not_negative"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=models.F("held")), name="wallet_held_within_balance"
            ),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.user_id}: {self.balance}"

    @property
    def available(self) -> Decimal:
        """What may be spent or withdrawn now: the balance less the money held."""
        return self.balance - self.held


class WalletHold(models.Model):
    """Money set aside in a wallet until a pending outcome is known, then either released
    (available again, no ledger entry) or captured (debited by one ledger entry), once.

    `Wallet.held` is the sum of the holds not yet released or captured (`released_at` null);
    the audit checks it."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    purpose = models.CharField(max_length=32)  # what waits: "withdrawal", "bet"
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)  # released or captured
    # The debit that captured the hold (null: still held, or released without a debit).
    ledger_entry = models.OneToOneField(
        "LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="captured_hold"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="wallet_hold_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(ledger_entry__isnull=True) | models.Q(released_at__isnull=False),
                name="wallet_hold_captured_is_released",
            ),
        ]
        indexes = [models.Index(fields=["wallet"], condition=models.Q(released_at__isnull=True), name="hold_open")]

    def __str__(self) -> str:
        return f"Hold {self.pk}: {self.amount} for {self.purpose} (wallet {self.wallet_id})"


class LedgerKind(models.TextChoices):
    CREDIT = "credit", "Credit"  # money given to the wallet: the sign-up credit
    STAKE = "stake", "Stake"
    PAYOUT = "payout", "Payout"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"  # a correction by staff, either sign
    # Takes back what a settlement paid (payout or refund) when a corrected result settles the bet again.
    REVERSAL = "reversal", "Reversal"
    DEPOSIT = "deposit", "Deposit"  # money paid in through a payment provider
    WITHDRAWAL = "withdrawal", "Withdrawal"  # money paid out through a payment provider
    CASHOUT = "cashout", "Cash-out"  # what an accepted cash-out quote pays, instead of settling


BET_LEDGER_KINDS = (LedgerKind.STAKE, LedgerKind.PAYOUT, LedgerKind.REFUND, LedgerKind.REVERSAL, LedgerKind.CASHOUT)
# What settlement pays a bet, net: the sum of these entries of a bet equals its `payout`.
BET_RETURN_KINDS = (LedgerKind.PAYOUT, LedgerKind.REFUND, LedgerKind.REVERSAL, LedgerKind.CASHOUT)


class LedgerEntry(models.Model):
    """One movement of money, never updated nor deleted.

    The cause: `bet` for stakes, payouts, refunds and reversals (at most one of each kind per
    bet and settlement round, enforced by a unique constraint, which is what makes settlement
    pay once even if run twice); `memo` for credits and adjustments, with `created_by` for
    staff adjustments; the payment (`payments.Payment.ledger_entry`) for deposits and
    withdrawals.
    """

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=LedgerKind)
    amount = models.DecimalField(max_digits=16, decimal_places=2)  # signed: a stake is negative
    balance_after = models.DecimalField(max_digits=16, decimal_places=2)
    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries")
    memo = models.CharField(max_length=200, blank=True, default="")
    # The bet's settlement this entry belongs to (`Bet.settlement_round`; 0 for the stake).
    settlement_round = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["bet", "kind", "settlement_round"],
                condition=models.Q(bet__isnull=False),
                name="ledger_one_entry_per_bet_kind_and_round",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=BET_LEDGER_KINDS, bet__isnull=False)
                | (~models.Q(kind__in=BET_LEDGER_KINDS) & models.Q(bet__isnull=True)),
                name="ledger_bet_entries_name_their_bet",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[LedgerKind.STAKE, LedgerKind.REVERSAL, LedgerKind.WITHDRAWAL], amount__lt=0
                )
                | models.Q(
                    kind__in=[
                        LedgerKind.PAYOUT,
                        LedgerKind.REFUND,
                        LedgerKind.CREDIT,
                        LedgerKind.DEPOSIT,
                        LedgerKind.CASHOUT,
                    ],
                    amount__gt=0,
                )
                | (models.Q(kind=LedgerKind.ADJUSTMENT) & ~models.Q(amount=0)),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
        ]
        indexes = [
            models.Index(fields=["wallet", "-id"]),
            models.Index(fields=["wallet", "created_at"], name="ledger_wallet_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} (wallet {self.wallet_id})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Ledger entries are append-only: record a new entry instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class BetDelay(models.Model):
    """What an in-play bet's delayed decision needs: the stake's hold, the price the bettor
    quoted and how much change they accept; then when it was decided and how long it took."""

    bet = models.OneToOneField(Bet, on_delete=models.CASCADE, primary_key=True, related_name="delay")
    hold = models.OneToOneField(WalletHold, on_delete=models.PROTECT, related_name="bet_delay")
    quoted_odds = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    accept_odds_change = models.CharField(max_length=8, default="none")
    decided_at = models.DateTimeField(null=True, blank=True)
    # Placement to decision, in milliseconds: the delay plus the worker's lateness.
    decision_ms = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["decided_at"], name="bet_delay_undecided", condition=models.Q(decided_at=None))]

    def __str__(self) -> str:
        return f"Delay of bet {self.bet_id}"


class MatchStatusChange(models.Model):
    """Each change of a match's status, when it happened: what the bet delay reads to know
    whether the markets were suspended or closed at any moment of a bet's delay, however late
    its worker runs. Written by `match_transition`, never changed."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=16, choices=MatchStatus)
    reason = models.CharField(max_length=16, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["match", "at", "id"]
        indexes = [models.Index(fields=["match", "at"], name="match_status_change_at")]

    def __str__(self) -> str:
        return f"{self.match_id} {self.status} at {self.at:%H:%M:%S}"


class CashoutQuote(models.Model):
    """An offer to settle an open bet now for `amount`, valid until `expires_at`
    (CASHOUT_QUOTE_SECONDS, at most 10 s). Accepting it settles the bet at exactly that amount,
    once: the id is the acceptance's idempotency key (betting/cashout.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bet = models.ForeignKey(Bet, on_delete=models.CASCADE, related_name="cashout_quotes")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # In play, an acceptance waits out the bet delay: asked at `requested_at`, decided by a
    # worker from `decide_at` on (null: pre-match, decided in the request). `decided_at` is
    # when it was accepted or refused, and `reason` why it was refused (`market_suspended`,
    # `cashout_value_changed`, ...; empty when accepted).
    requested_at = models.DateTimeField(null=True, blank=True)
    decide_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="cashout_quote_amount_positive"),
            # One acceptance in play waits at a time for a bet: a second is refused `cashout_pending`.
            models.UniqueConstraint(
                fields=["bet"],
                condition=models.Q(decide_at__isnull=False, decided_at__isnull=True),
                name="cashout_one_pending_per_bet",
            ),
            # A bet is cashed out once: at most one accepted quote.
            models.UniqueConstraint(
                fields=["bet"], condition=models.Q(accepted_at__isnull=False), name="cashout_one_accepted_per_bet"
            ),
        ]

    def __str__(self) -> str:
        return f"Cash-out quote {self.id}: {self.amount} for bet {self.bet_id}"


class BetRequest(models.Model):
    """An accepted `POST /api/bets/` under an `Idempotency-Key`: replayed, never re-run."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)  # SHA-256 of the canonical JSON body
    bet = models.ForeignKey(Bet, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="bet_request_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
