from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inplay.credentials import feed_provider_token_issue


@pytest.fixture
def feed_token(db) -> str:
    return feed_provider_token_issue(name="test-provider")


@pytest.fixture
def feed_client(feed_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Feed {feed_token}")
    return client


class Feed:
    """Posts a match's events through the API, numbering them as a provider would."""

    def __init__(self, client: APIClient, match_id: int) -> None:
        self.client = client
        self.match_id = match_id
        self.numbers = count(1)
        self.start = timezone.now() - timedelta(minutes=1)

    def post(self, kind: str, *, sequence: int | None = None, event_id: str | None = None, **fields: Any):
        sequence = sequence if sequence is not None else next(self.numbers)
        body = {
            "event_id": event_id or f"m{self.match_id}-{sequence}",
            "match": self.match_id,
            "sequence": sequence,
            "kind": kind,
            "occurred_at": (self.start + timedelta(seconds=sequence)).isoformat(),
            **fields,
        }
        return self.client.post("/api/feed/events/", body, format="json")

    def send(self, kind: str, **fields: Any) -> dict:
        reply = self.post(kind, **fields)
        assert reply.status_code in (200, 202), reply.content
        return reply.json()


@pytest.fixture
def reopen_requests(monkeypatch) -> list[tuple[int, float]]:
    """The reopening countdowns asked for, as (match id, seconds), instead of running them: an
    eager task would ignore the countdown and run at once."""
    requests: list[tuple[int, float]] = []
    monkeypatch.setattr(
        "inplay.jobs.markets_reopen_enqueue",
        lambda *, match_id, countdown: requests.append((match_id, countdown)),
    )
    return requests


@pytest.fixture
def feed(feed_client, match, django_capture_on_commit_callbacks, reopen_requests):
    """The feed of the `match` fixture; each event processed on commit, as the worker would."""

    class EagerFeed(Feed):
        def post(self, kind: str, **fields: Any):
            with django_capture_on_commit_callbacks(execute=True):
                return super().post(kind, **fields)

    return EagerFeed(feed_client, match.pk)
