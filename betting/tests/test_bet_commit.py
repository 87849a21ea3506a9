"""After a bet commits nothing can change its 201, and a retry after an unknown outcome places
it at most once: `Idempotency-Key` is required, and every after-commit step is robust.

Transactional tests: the bet's transaction really commits inside the request, and its
after-commit steps run there, as in production (not deferred to the end of a test block)."""

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connections
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from betting import placement
from betting.models import Bet, BetRequest, Match
from betting.selectors import wallet_balance_of
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key
from realtime import publisher

pytestmark = pytest.mark.django_db(transaction=True)


def bettor_client(user: Any) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def bet_body(match: Match) -> dict[str, Any]:
    return {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1}


def failures_of(step: str) -> float:
    return REGISTRY.get_sample_value("oddstream_after_commit_failures_total", {"step": step}) or 0.0


def test_a_bet_without_an_idempotency_key_is_428_and_writes_nothing() -> None:
    user, match = UserFactory(), MatchFactory()
    reply = bettor_client(user).post("/api/bets/", bet_body(match), format="json")
    assert reply.status_code == 428
    body = reply.json()
    assert body["code"] == "idempotency_key_required" and "Idempotency-Key" in body["detail"]
    assert not Bet.objects.exists() and wallet_balance_of(user_id=user.pk) == Decimal("1000.00")


# --- Each after-commit step fails in turn -------------------------------------------


@pytest.fixture
def after_commit_steps(monkeypatch) -> dict[str, list[Any]]:
    """What each after-commit step of a bet did: the private frames it published and the
    recompute requests it sent (kept here, instead of Redis and the broker)."""
    done: dict[str, list[Any]] = {"bet": [], "wallet": [], "recompute": []}

    def publish(stream: str, frame: dict[str, Any], **routing: Any) -> int:
        done[frame["type"]].append(frame)
        return 1

    monkeypatch.setattr(publisher, "publish", publish)
    monkeypatch.setattr(placement, "odds_recompute_request", lambda *, match_id: done["recompute"].append(match_id))
    return done


def failing(step: str, error: Exception, done: dict[str, list[Any]]) -> Callable[..., Any]:
    """A stand-in for the step that raises `error` instead of doing it."""

    def publish_or_fail(stream: str, frame: dict[str, Any], **routing: Any) -> int:
        if frame["type"] == step:
            raise error
        done[frame["type"]].append(frame)
        return 1

    def request_fails(*, match_id: int) -> None:
        raise error

    return request_fails if step == "recompute" else publish_or_fail


STEPS = {  # the step, where its stand-in goes, and the counter's label for it
    "bet": ("realtime.publisher.publish", "publish_private"),
    "wallet": ("realtime.publisher.publish", "publish_private"),
    "recompute": ("betting.placement.odds_recompute_request", "odds_recompute_request"),
}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(
    "error",
    [RuntimeError("a bug after commit"), OperationalError("the database went away after commit"), KeyError("x")],
    ids=["bug", "database", "key"],
)
def test_a_failure_after_commit_never_changes_the_201(monkeypatch, caplog, after_commit_steps, step, error) -> None:
    user, match = UserFactory(), MatchFactory()
    for done in after_commit_steps.values():
        done.clear()  # the sign-up credit's wallet frame is not the bet's
    target, label = STEPS[step]
    monkeypatch.setattr(target, failing(step, error, after_commit_steps))
    before = failures_of(label)
    with caplog.at_level(logging.ERROR, logger="config.after_commit"):
        reply = bettor_client(user).post("/api/bets/", bet_body(match), format="json", **new_bet_key())

    assert reply.status_code == 201, reply.content  # not a 500, and not a 503 inviting a retry
    assert Bet.objects.get().pk == reply.json()["id"]
    assert wallet_balance_of(user_id=user.pk) == Decimal("990.00")
    assert failures_of(label) == before + 1  # counted
    assert any(label in record.getMessage() for record in caplog.records)  # and logged with its step
    others = {name: len(frames) for name, frames in after_commit_steps.items() if name != step}
    assert others == dict.fromkeys(others, 1)  # the steps after the failing one still ran


# --- A failure raised at COMMIT, then a keyed retry -----------------------------------


@pytest.fixture
def commit_fails_once(monkeypatch) -> Callable[[bool], None]:
    """Make the bet's COMMIT raise a database error once: after the server committed (the
    answer was lost with the connection) or instead of committing. Either way the client
    only sees the error: the outcome is unknown to it."""

    def arm(committed: bool) -> None:
        db = connections["default"]
        real_commit = db.commit

        def commit_then_fail() -> None:
            if not Bet.objects.exists():  # not the bet's transaction
                return real_commit()
            monkeypatch.setattr(db, "commit", real_commit)  # once
            if committed:
                real_commit()
            else:
                db.rollback()
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(db, "commit", commit_then_fail)

    return arm


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "rolled-back"])
def test_a_keyed_retry_after_a_failed_commit_places_the_bet_once(commit_fails_once, committed) -> None:
    user, match = UserFactory(), MatchFactory()
    client, key = bettor_client(user), new_bet_key()
    commit_fails_once(committed)

    unknown = client.post("/api/bets/", bet_body(match), format="json", **key)
    assert unknown.status_code == 503 and int(unknown["Retry-After"]) > 0
    assert "same Idempotency-Key" in unknown.json()["detail"]
    assert Bet.objects.count() == (1 if committed else 0)

    retry = client.post("/api/bets/", bet_body(match), format="json", **key)
    assert retry.status_code == 201, retry.content
    assert retry.headers.get("Idempotent-Replayed") == ("true" if committed else None)
    bet = Bet.objects.get()  # exactly one, either way
    assert retry.json()["id"] == bet.pk and BetRequest.objects.get().bet_id == bet.pk
    assert wallet_balance_of(user_id=user.pk) == Decimal("990.00")  # debited once
    again = client.post("/api/bets/", bet_body(match), format="json", **key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert Bet.objects.count() == 1
