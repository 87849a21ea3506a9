from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from betting.tests.factories import MatchFactory, UserFactory
from payments.tests.doubles import PROVIDERS

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def payment_providers(settings):
    settings.PAYMENT_PROVIDERS = PROVIDERS
    settings.PAYMENT_DEFAULT_PROVIDER = "instant"


@pytest.fixture
def clock():
    """A frozen clock at T0; `clock.move_to(moment)` sets it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bettor(db):
    return UserFactory(wallet=Decimal("1000.00"))


@pytest.fixture
def client(bettor) -> APIClient:
    client = APIClient()
    client.force_authenticate(bettor)
    return client


@pytest.fixture
def far_match(db):
    """A match that kicks off long after every time travel of the tests."""
    return MatchFactory(kickoff=datetime(2031, 1, 1, tzinfo=UTC))
