"""Real-time events of betting: the frames clients receive, built in one place.

Odds travel as JSON numbers (ladder prices, at most two decimals); money as strings.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from betting import streams as odds_streams
from betting.models import Bet, BetKind, CashoutQuote, Market, Match
from realtime.publisher import publish_many_on_commit, publish_on_commit
from realtime.streams import PRIVATE


def odds_as_numbers(prices: Mapping[str, Decimal | None]) -> dict[str, float | None]:
    """Prices as JSON numbers; a closed selection's is null."""
    return {selection: None if price is None else float(price) for selection, price in prices.items()}


def prices_as_numbers(prices: Mapping[str, str | None]) -> dict[str, float | None]:
    """A market row's prices (two-place strings, null when closed) as JSON numbers."""
    return {selection: None if price is None else float(price) for selection, price in prices.items()}


def live_of(match: Match) -> dict[str, Any] | None:
    """The match's live state from its feed (`inplay.MatchState`: period, clock, score, red
    cards), or None before its feed starts."""
    try:
        return match.live_state.as_frame()
    except ObjectDoesNotExist:
        return None


def markets_state(rows: Iterable[Market]) -> dict[str, Any]:
    """Every market of a match, in the catalogue's order: `markets` {key: {selection: price}},
    `market_status` {key: status}, `max_stakes` {key: {selection: "amount"}} (money as
    strings, null where the selection is closed) and, in play, `decided` {key: {selection:
    "won" | "lost" | "void"}}: only the markets with a selection the score has decided."""
    rows = sorted(rows, key=lambda row: row.position)
    return {
        "markets": {row.key: prices_as_numbers(row.prices) for row in rows},
        "market_status": {row.key: row.status for row in rows},
        "max_stakes": {row.key: dict(row.max_stakes) for row in rows},
        "decided": {row.key: dict(row.decided) for row in rows if row.decided},
    }


def match_state(match: Match, rows: Iterable[Market] | None = None) -> dict[str, Any]:
    """The public state of one match, as in `odds` messages and snapshots. `rows` are its
    market rows (read from the database, prefetched or not, when not given)."""
    return {
        "match": match.pk,
        "version": match.odds_version,
        "odds": odds_as_numbers(match.current_prices),
        **markets_state(match.market_rows.all() if rows is None else rows),
        "status": match.status,
        "suspended_reason": match.suspended_reason,
        "live": live_of(match),
        "bets": match.bets_counted,
        "ts": match.odds_updated_at.isoformat(),
    }


def odds_frame(match: Match, rows: Iterable[Market] | None = None) -> dict[str, Any]:
    return {"type": "odds", **match_state(match, rows)}


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


def odds_publish_on_commit(match: Match, rows: Iterable[Market] | None = None) -> None:
    publish_on_commit(odds_streams.ODDS, odds_frame(match, rows), match=match.pk, version=match.odds_version)


def match_status_publish_on_commit(match: Match) -> None:
    publish_on_commit(odds_streams.ODDS, match_status_frame(match), match=match.pk, version=match.odds_version)


# --- Private events: only the bettor's own sockets receive them ----------------


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def bet_frame(bet: Bet) -> dict[str, Any]:
    return {
        "type": "bet",
        "id": bet.pk,
        "kind": bet.kind,
        "legs": legs_of(bet),
        "match": bet.match_id,
        "market": bet.market,
        "selection": bet.selection,
        "stake": money(bet.stake),
        "odds": float(bet.odds),
        "odds_version": bet.odds_version,
        "status": bet.status,
        "reason": bet.reason,
        "decide_at": None if bet.decide_at is None else bet.decide_at.isoformat(),
        "payout": None if bet.payout is None else money(bet.payout),
    }


def legs_of(bet: Bet) -> list[dict[str, Any]]:
    """An accumulator's legs as the API shows them (a single has none: no query)."""
    if bet.kind != BetKind.ACCUMULATOR:
        return []
    return [
        {
            "match": leg.match_id,
            "market": leg.market,
            "selection": leg.selection,
            "odds": float(leg.odds),
            "odds_version": leg.odds_version,
            "status": leg.status,
        }
        for leg in bet.legs.all()
    ]


def cashout_frame(*, bet_id: int, value: Decimal | None, reason: str) -> dict[str, Any]:
    """A bet's cash-out value now (null while it is not offered: `reason` says why)."""
    return {"type": "cashout", "bet": bet_id, "value": None if value is None else money(value), "reason": reason}


def cashouts_publish_on_commit(values: list[tuple[int, int, Decimal | None, str]]) -> None:
    """Many bets' cash-out values, each `(user_id, bet_id, value, reason)`, on their owners'
    private feeds in one Redis round trip: a new price values every open bet of the match."""
    publish_many_on_commit(
        PRIVATE,
        [
            (cashout_frame(bet_id=bet_id, value=value, reason=reason), {"user": user_id})
            for user_id, bet_id, value, reason in values
        ],
    )


def cashout_decision_status(quote: CashoutQuote) -> str:
    """An in-play acceptance's state: `pending` until its decision, then `accepted` or `refused`."""
    if quote.accepted_at is not None:
        return "accepted"
    return "pending" if quote.decided_at is None else "refused"


def cashout_decision_frame(quote: CashoutQuote) -> dict[str, Any]:
    """An in-play cash-out acceptance: pending for the bet delay, then its decision (with the
    code of a refusal in `reason`)."""
    return {
        "type": "cashout_decision",
        "bet": quote.bet_id,
        "quote": str(quote.pk),
        "amount": money(quote.amount),
        "status": cashout_decision_status(quote),
        "reason": quote.reason,
        "decide_at": None if quote.decide_at is None else quote.decide_at.isoformat(),
    }


def cashout_decision_publish_on_commit(*, user_id: int, quote: CashoutQuote) -> None:
    publish_on_commit(PRIVATE, cashout_decision_frame(quote), user=user_id)


def wallet_frame(*, balance: Decimal, change: Decimal, reason: str) -> dict[str, Any]:
    return {"type": "wallet", "balance": money(balance), "change": money(change), "reason": reason}


def bet_publish_on_commit(bet: Bet) -> None:
    publish_on_commit(PRIVATE, bet_frame(bet), user=bet.user_id)


def wallet_publish_on_commit(*, user_id: int, balance: Decimal, change: Decimal, reason: str) -> None:
    publish_on_commit(PRIVATE, wallet_frame(balance=balance, change=change, reason=reason), user=user_id)
