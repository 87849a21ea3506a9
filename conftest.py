"""Fixtures shared by every app's tests."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from celery import current_app
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from betting.tests.factories import MatchFactory, UserFactory

POSTGRES_SKIP = (
    "Needs PostgreSQL: {reason} This run is on {vendor}; `make test` runs the tests marked `postgres` "
    "again on PostgreSQL when one answers at POSTGRES_RACES_URL (docs/testing.md)."
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Race tests marked `postgres` (row locks, concurrent transactions) skip on another
    database, saying why and where they run instead."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            reason = marker.kwargs.get("reason", "it races real concurrent transactions.")
            item.add_marker(pytest.mark.skip(reason=POSTGRES_SKIP.format(reason=reason, vendor=connection.vendor)))


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Throttles and coalescing flags live in the cache (Redis, or locmem in the fast unit
    run): start each test clean."""
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
def bets(match):
    """Three bettors with 1000.00 each, one bet on each selection at 2.10 / 3.40 / 3.50."""
    from betting.placement import bet_place

    placed = {}
    for selection, stake in (("home", "100.00"), ("draw", "50.00"), ("away", "20.00")):
        placed[selection] = bet_place(
            user=UserFactory(), match_id=match.pk, selection=selection, stake=Decimal(stake), accept_odds_change="any"
        )
    return placed


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
        "realtime.publisher.publish_now", lambda stream, frame, **routing: events.append((stream, frame, routing))
    )
    monkeypatch.setattr(
        "realtime.publisher.publish_many_now",
        lambda stream, batch: events.extend((stream, frame, routing) for frame, routing in batch),
    )
    return events


def trader():
    """A staff member of the `traders` group (created by a migration): may trade and settle."""
    from django.contrib.auth.models import Group

    from betting.permissions import TRADERS_GROUP

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=TRADERS_GROUP))
    return user


@pytest.fixture
def staff_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(trader())
    return client


@pytest.fixture
def throttle_rate(monkeypatch):
    """Set one throttle scope's rate for a test (DRF reads the rates dict at request time)."""

    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rate


@pytest.fixture
def run_task() -> Callable[..., Any]:
    """Run a Celery task inline by its registered name (an app's `jobs` name), as a worker
    would run it from the queue, and return its result or raise its error."""

    def run(name: str, **kwargs: Any) -> Any:
        return current_app.tasks[name].apply(kwargs=kwargs).get()

    return run


def dead_redis_caches() -> dict[str, Any]:
    """CACHES whose Redis is a port nobody listens on."""
    from workers.embedded_redis import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down():
    """The cache (throttles, coalescing flags, revocation records) is down for the whole test."""
    with override_settings(CACHES=dead_redis_caches()):
        yield


@pytest.fixture
def redis_outage() -> Callable[[], Any]:
    """Redis down for part of a test: `with redis_outage(): ...`."""
    return lambda: override_settings(CACHES=dead_redis_caches())
