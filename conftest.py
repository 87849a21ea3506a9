"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from betting.tests.factories import MatchFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Throttles and coalescing flags live in the (real, Redis) cache: start each test clean."""
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def match(db):
    return MatchFactory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, dict, dict]]:
    """Every event published after commit, as (stream, frame, routing), instead of Redis."""
    events: list[tuple[str, dict, dict]] = []
    monkeypatch.setattr(
        "workers.publisher.publish_now", lambda stream, frame, **routing: events.append((stream, frame, routing))
    )
    return events


@pytest.fixture
def staff_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True))
    return client


@pytest.fixture
def throttle_rate(monkeypatch):
    """Set one throttle scope's rate for a test (DRF reads the rates dict at request time)."""
    from rest_framework.throttling import SimpleRateThrottle

    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rate
