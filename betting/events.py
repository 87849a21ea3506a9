"""Real-time events of betting: the frames clients receive, built in one place.

Odds travel as JSON numbers (ladder prices, at most two decimals); money as strings.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from betting.models import Bet, Match
from realtime import streams
from realtime.publisher import publish_on_commit


def odds_as_numbers(prices: Mapping[str, Decimal]) -> dict[str, float]:
    return {selection: float(price) for selection, price in prices.items()}


def markets_as_numbers(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Derived markets (stored as two-place strings) as JSON numbers, like the 1X2 odds."""
    return {name: {selection: float(price) for selection, price in prices.items()} for name, prices in markets.items()}


def live_of(match: Match) -> dict[str, Any] | None:
    """The match's live state from its feed (`inplay.MatchState`: period, clock, score, red
    cards), or None before its feed starts."""
    try:
        return match.live_state.as_frame()
    except ObjectDoesNotExist:
        return None


def match_state(match: Match) -> dict[str, Any]:
    """The public state of one match, as in `odds` messages and snapshots."""
    return {
        "match": match.pk,
        "version": match.odds_version,
        "odds": odds_as_numbers(match.current_prices),
        "markets": markets_as_numbers(match.markets),
        "status": match.status,
        "suspended_reason": match.suspended_reason,
        "live": live_of(match),
        "bets": match.bets_counted,
        "ts": match.odds_updated_at.isoformat(),
    }


def odds_frame(match: Match) -> dict[str, Any]:
    return {"type": "odds", **match_state(match)}


def match_status_frame(match: Match) -> dict[str, Any]:
    return {
        "type": "match",
        "match": match.pk,
        "status": match.status,
        "suspended_reason": match.suspended_reason,
        "result": match.result,
        "live": live_of(match),
        "version": match.odds_version,
    }


def odds_publish_on_commit(match: Match) -> None:
    publish_on_commit(streams.ODDS, odds_frame(match), match=match.pk, version=match.odds_version)


def match_status_publish_on_commit(match: Match) -> None:
    publish_on_commit(streams.ODDS, match_status_frame(match), match=match.pk, version=match.odds_version)


# --- Private events: only the bettor's own sockets receive them ----------------


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def bet_frame(bet: Bet) -> dict[str, Any]:
    return {
        "type": "bet",
        "id": bet.pk,
        "match": bet.match_id,
        "selection": bet.selection,
        "stake": money(bet.stake),
        "odds": float(bet.odds),
        "odds_version": bet.odds_version,
        "status": bet.status,
        "payout": None if bet.payout is None else money(bet.payout),
    }


def wallet_frame(*, balance: Decimal, change: Decimal, reason: str) -> dict[str, Any]:
    return {"type": "wallet", "balance": money(balance), "change": money(change), "reason": reason}


def bet_publish_on_commit(bet: Bet) -> None:
    publish_on_commit(streams.PRIVATE, bet_frame(bet), user=bet.user_id)


def wallet_publish_on_commit(*, user_id: int, balance: Decimal, change: Decimal, reason: str) -> None:
    publish_on_commit(streams.PRIVATE, wallet_frame(balance=balance, change=change, reason=reason), user=user_id)
