import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from betting.matches import match_markets_open
from betting.models import Match, MatchStatus, Wallet
from betting.priors import prior_from_odds
from betting.settlement import match_transition
from betting.wallets import wallet_open


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"bettor{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def wallet(user, create, extracted, **kwargs):
        """Every bettor has a wallet; `UserFactory(wallet=Decimal("25.00"))` sets its credit."""
        if create:
            wallet_open(user=user, credit=extracted)


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Match
        skip_postgeneration_save = True  # `markets` saves the match

    home_team = factory.Sequence(lambda n: f"Home {n}")
    away_team = factory.Sequence(lambda n: f"Away {n}")
    kickoff = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    status = MatchStatus.OPEN
    # A trader's 1X2 odds (10% overround) standing for a score distribution that the book,
    # with its 5% 1X2 margin, prices at 2.10 / 3.40 / 3.50: the prices the tests read.
    opening_home = Decimal("2.06")
    opening_draw = Decimal("3.20")
    opening_away = Decimal("3.30")
    odds_home = factory.SelfAttribute("opening_home")
    odds_draw = factory.SelfAttribute("opening_draw")
    odds_away = factory.SelfAttribute("opening_away")

    @factory.post_generation
    def markets(match, create, extracted, **kwargs):
        """Every market, priced from the score distribution the opening 1X2 odds stand for (a
        trader's prices): the 1X2 columns then hold the book's own 1X2 prices of it."""
        if create:
            prior = prior_from_odds(match.opening_prices, settings.ODDS_MARGIN_METHOD)
            match_markets_open(match, prior)


def balance_of(user) -> Decimal:
    return Wallet.objects.get(user=user).balance


# A final score for each 1X2 result, for tests that only care who won.
SCORE_OF_RESULT = {"home": (2, 1), "draw": (1, 1), "away": (0, 2)}


def settle(match: Match, result: str | tuple[int, int]) -> None:
    """Close and settle with a final score, or a 1X2 result standing for one (the settlement
    task runs on commit)."""
    score = SCORE_OF_RESULT[result] if isinstance(result, str) else result
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    match_transition(match_id=match.pk, status=MatchStatus.SETTLED, score=score)


def new_bet_key() -> dict[str, str]:
    """The header of one new bet, for Django's test client: a fresh Idempotency-Key, as the
    bet slip sends one per bet (`POST /api/bets/` requires it)."""
    return {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
