import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from betting.models import Match, MatchStatus, Wallet
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

    home_team = factory.Sequence(lambda n: f"Home {n}")
    away_team = factory.Sequence(lambda n: f"Away {n}")
    kickoff = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    status = MatchStatus.OPEN
    opening_home = Decimal("2.10")
    opening_draw = Decimal("3.40")
    opening_away = Decimal("3.50")
    odds_home = factory.SelfAttribute("opening_home")
    odds_draw = factory.SelfAttribute("opening_draw")
    odds_away = factory.SelfAttribute("opening_away")


def balance_of(user) -> Decimal:
    return Wallet.objects.get(user=user).balance


def settle(match: Match, result: str) -> None:
    """Close and settle (the settlement task runs on commit)."""
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    match_transition(match_id=match.pk, status=MatchStatus.SETTLED, result=result)


def new_bet_key() -> dict[str, str]:
    """The header of one new bet, for Django's test client: a fresh Idempotency-Key, as the
    bet slip sends one per bet (`POST /api/bets/` requires it)."""
    return {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
