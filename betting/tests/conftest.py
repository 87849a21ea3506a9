from decimal import Decimal

import pytest

from betting.placement import bet_place
from betting.tests.factories import UserFactory


@pytest.fixture
def bets(match):
    """Three bettors with 1000.00 each, one bet on each selection at 2.10 / 3.40 / 3.50."""
    placed = {}
    for selection, stake in (("home", "100.00"), ("draw", "50.00"), ("away", "20.00")):
        placed[selection] = bet_place(
            user=UserFactory(), match_id=match.pk, selection=selection, stake=Decimal(stake), accept_odds_change="any"
        )
    return placed
