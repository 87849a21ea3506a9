"""The money a market has taken: per selection, the stakes and the payouts they would pay.

Pure: no Django, no I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class BookTotals:
    """The money a set of odds counts: per selection, stakes and payouts (Σ stake x odds)."""

    stakes: Mapping[str, Decimal] = field(default_factory=dict)
    payouts: Mapping[str, Decimal] = field(default_factory=dict)

    def stake(self, selection: str) -> Decimal:
        return self.stakes.get(selection, ZERO)

    def payout(self, selection: str) -> Decimal:
        return self.payouts.get(selection, ZERO)

    @property
    def total_staked(self) -> Decimal:
        return sum(self.stakes.values(), ZERO)

    def net_liability(self, selection: str) -> Decimal:
        """What the book loses if `selection` wins (and no bet is void): its payouts less every stake it keeps."""
        return self.payout(selection) - self.total_staked


NO_MONEY = BookTotals()
