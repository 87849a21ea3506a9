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
