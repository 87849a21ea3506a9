"""Placing an accumulator: several legs on different matches, one stake, the product of the
legs' prices as its odds (docs/bet-types.md#accumulators).

Each leg is checked as a single would be (its match takes bets, its market is open, its price
is accepted, its selection's maximum stake), under the lock of every leg's match row, taken
in id order, then the wallet row: the lock order of `bet_place` and of settlement.

Liability: every leg counts the whole accumulator on its selection, as a single of the
accumulator's stake at its combined odds: toward the selection's maximum stake here, and in
the odds recompute (the leg takes a place in its match's bet sequence). Conservative: the
accumulator pays only if the other legs win too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from betting import events
from betting.engine.accumulators import MIN_LEGS, combined_odds
from betting.engine.markets import CENT
from betting.errors import (
    AccumulatorInPlay,
    AccumulatorLegCount,
    AccumulatorSameMatch,
    MatchNotFound,
    OddsRequired,
    StakeTooHigh,
)
from betting.models import Bet, BetKind, BetLeg, LedgerKind, Market, Match
from betting.placement import (
    ACCEPT_ANY,
    ACCEPT_NONE,
    bet_odds_recompute_schedule,
    liability_used_since,
    market_open_check,
    match_takes_bets_check,
    selection_price_check,
    stake_check,
)
from betting.wallet_rules import wallet_rules
from betting.wallets import wallet_available_check, wallet_lock, wallet_post


@dataclass(frozen=True)
class LegRequest:
    """One leg as the bettor asks for it: a selection of a market of a match, and the price seen."""

    match_id: int
    market: str
    selection: str
    quoted_odds: Decimal | None = None


def legs_check(legs: Sequence[LegRequest]) -> None:
    """400 unless there are 2 to ACCUMULATOR_MAX_LEGS legs on as many different matches."""
    most = settings.ACCUMULATOR_MAX_LEGS
    if not MIN_LEGS <= len(legs) <= most:
        message = f"An accumulator has {MIN_LEGS} to {most} legs, not {len(legs)}."
        raise AccumulatorLegCount(message, errors={"legs": [message]})
    seen: dict[int, int] = {}
    for index, leg in enumerate(legs):
        if leg.match_id in seen:
            message = (
                f"Legs {seen[leg.match_id]} and {index} are both on match {leg.match_id}: an accumulator takes one "
                "leg per match (outcomes of one match are correlated)."
            )
            raise AccumulatorSameMatch(message, match=leg.match_id, errors={"legs": [message]})
        seen[leg.match_id] = index


@transaction.atomic
def accumulator_place(
    *, user: User, legs: Sequence[LegRequest], stake: Decimal, accept_odds_change: str = ACCEPT_NONE
) -> Bet:
    """Debit the stake and record an accumulator on `legs`, each struck at its current price,
    at their combined odds; then ask for every leg's match to be recomputed.

    `accept_odds_change` applies to each leg's own price, as for a single: a refused leg
    refuses the bet (`leg` names it). Any refusal raises before anything is written.
    """
    stake_check(stake)
    legs_check(legs)
    if accept_odds_change != ACCEPT_ANY and any(leg.quoted_odds is None for leg in legs):
        message = "Give the price you saw of every leg (`odds`), or accept any price."
        raise OddsRequired(message, errors={"legs": [message]})
    # Every leg's match row, locked in id order: two accumulators sharing matches never deadlock.
    locked = Match.objects.select_for_update().filter(pk__in=[leg.match_id for leg in legs]).order_by("pk")
    matches = {match.pk: match for match in locked}
    struck: list[tuple[LegRequest, Match, Market, Decimal]] = []
    for index, leg in enumerate(legs):
        match = matches.get(leg.match_id)
        if match is None:
            message = f"Match {leg.match_id} does not exist."
            raise MatchNotFound(message, leg=index, errors={"legs": [message]})
        match_takes_bets_check(match)
        if match.in_play:
            raise AccumulatorInPlay(
                f"Match {match.pk} is in play: an accumulator takes pre-match legs only (in play, bet singles).",
                leg=index,
            )
        row = market_open_check(match, leg.market)
        price = selection_price_check(
            match=match,
            row=row,
            selection=leg.selection,
            quoted_odds=leg.quoted_odds,
            accept_odds_change=accept_odds_change,
            leg=index,
        )
        struck.append((leg, match, row, price))
    odds = combined_odds(price for *_, price in struck)
    accumulator_max_stake_check(struck, odds=odds, stake=stake)

    wallet = wallet_lock(user_id=user.pk)
    wallet_rules().bet_allowed_check(wallet=wallet, stake=stake)  # safer gambling's, by its hook
    wallet_available_check(wallet=wallet, amount=stake, what=f"The stake {stake}")

    bet = Bet.objects.create(
        user=user, kind=BetKind.ACCUMULATOR, market="", selection="", stake=stake, odds=odds, odds_version=0
    )
    rows = []
    for position, (leg, match, _row, price) in enumerate(struck):
        match.bet_sequence += 1
        match.save(update_fields=["bet_sequence"])
        rows.append(
            BetLeg(
                bet=bet,
                position=position,
                match=match,
                market=leg.market,
                selection=leg.selection,
                odds=price,
                odds_version=match.odds_version,
                sequence=match.bet_sequence,
            )
        )
    BetLeg.objects.bulk_create(rows)
    wallet_post(wallet=wallet, kind=LedgerKind.STAKE, amount=-stake, bet=bet)
    events.bet_publish_on_commit(bet)
    for match in matches.values():
        bet_odds_recompute_schedule(match_id=match.pk)
    return bet


def accumulator_max_stake_check(
    struck: Sequence[tuple[LegRequest, Match, Market, Decimal]], *, odds: Decimal, stake: Decimal
) -> None:
    """Refuse a stake above what every leg's selection takes: 409 `stake_too_high` with the
    accumulator's `max_stake` and the `leg` that binds.

    A leg's selection has room for a loss of (its stored maximum stake x (price - 1)), less
    what the bets taken since the recompute use (`liability_used_since`); the accumulator adds
    stake x (combined odds - 1) there."""
    if odds <= 1:
        return
    allowed, binding = None, None
    for index, (leg, match, row, price) in enumerate(struck):
        stored = row.max_stakes.get(leg.selection)
        if stored is None:
            continue
        room = Decimal(stored) * (price - 1) - liability_used_since(match=match, row=row, selection=leg.selection)
        leg_allowed = max(Decimal(0), room / (odds - 1)).quantize(CENT, rounding=ROUND_DOWN)
        if allowed is None or leg_allowed < allowed:
            allowed, binding = leg_allowed, index
    if allowed is not None and stake > allowed:
        leg = struck[binding or 0][0]
        raise StakeTooHigh(
            f"The most this accumulator takes now is {allowed} (leg {binding}: {leg.market} {leg.selection}).",
            max_stake=f"{allowed:.2f}",
            market=leg.market,
            selection=leg.selection,
            leg=binding,
        )
