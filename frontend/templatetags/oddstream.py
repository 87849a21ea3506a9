"""Template helpers of the pages."""

from decimal import Decimal
from typing import Any

from django import template

from betting.selectors import wallet_balance_of

register = template.Library()

STATUS_LABELS = {
    "scheduled": "Upcoming",
    "open": "Open",
    "suspended": "Suspended",
    "closed": "Closed",
    "settled": "Settled",
    "void": "Void",
}


MISSING = "\u2013"  # an en dash: how the pages show a price they do not have


@register.simple_tag(takes_context=True)
def nav_balance(context: dict[str, Any]) -> Decimal:
    """The signed-in bettor's balance for the top bar; `wallet` events keep it current."""
    return wallet_balance_of(user_id=context["request"].user.pk or 0)


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def market_price(markets: dict[str, dict[str, str]] | None, path: str) -> str:
    """`markets|market_price:"over_under_2_5.over"`: one derived price, or a dash."""
    name, _, selection = path.partition(".")
    price = (markets or {}).get(name, {}).get(selection)
    return f"{Decimal(str(price)):.2f}" if price is not None else MISSING
