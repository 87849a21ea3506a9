"""Template helpers of the pages."""

from decimal import Decimal
from typing import Any

from django import template

from betting.events import live_of
from betting.selectors import wallet_balance_of
from frontend import markets as market_words

register = template.Library()

STATUS_LABELS = {
    "scheduled": "Upcoming",
    "open": "Open",
    "suspended": "Suspended",
    "closed": "Closed",
    "settled": "Settled",
    "void": "Void",
}


# The live state's period and a suspension's reason, in words (lib/live.js says the same).
PERIOD_LABELS = {
    "pre_match": "",
    "first_half": "1st half",
    "half_time": "Half-time",
    "second_half": "2nd half",
    "full_time": "Full time",
}
SUSPENSION_WORDS = {"goal": "goal", "red_card": "red card", "penalty": "penalty", "trader": "trader"}


@register.simple_tag(takes_context=True)
def nav_balance(context: dict[str, Any]) -> Decimal:
    """The signed-in bettor's balance for the top bar; `wallet` events keep it current."""
    return wallet_balance_of(user_id=context["request"].user.pk or 0)


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def live_state(match: Any) -> dict[str, Any] | None:
    """The match's live state from its feed (period, clock, score, red cards), None before it."""
    return live_of(match) if match else None


@register.filter
def period_label(period: str) -> str:
    return PERIOD_LABELS.get(period, period)


@register.filter
def suspension_words(reason: str) -> str:
    return SUSPENSION_WORDS.get(reason, reason)


@register.filter
def extra_markets(match: Any) -> int:
    """The markets beyond the 1X2 the board shows ("+14 markets"); rows prefetched."""
    return market_words.extra_markets(match.market_rows.all()) if match else 0


@register.filter
def bet_pick(bet: Any) -> str:
    """A bet's market and selection in words: "Total goals 2.5: Over 2.5"."""
    return market_words.bet_pick(bet.market, bet.selection, bet.match.home_team, bet.match.away_team)


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """`mapping[key]`, or None: a value per row, computed once by the view (a bet's cash-out offer)."""
    return (mapping or {}).get(key)
