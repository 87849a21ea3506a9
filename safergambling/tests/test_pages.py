"""The safer-gambling page: the same services as the API, the 24-hour delay shown, and a
break that signs the bettor out."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import UserSession
from safergambling.models import Limit, Restriction
from safergambling.services import self_exclusion_take, timeout_take
from safergambling.tests.conftest import T0
from safergambling.tests.test_breaks import bet, money_state

SAFER_GAMBLING_PAGE = "/me/safer-gambling/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(bettor) -> Client:
    client = Client()
    client.force_login(bettor)
    return client


def test_the_page_sets_a_limit_and_says_when_a_raise_binds(clock, page) -> None:
    limit = {"action": "limit", "kind": "deposit", "period": "day"}
    assert page.post("/me/safer-gambling/", {**limit, "amount": "100.00"}).status_code == 302
    assert "Your limit binds now." in page.get("/me/safer-gambling/").content.decode()
    assert page.post("/me/safer-gambling/", {**limit, "amount": "300.00"}).status_code == 302
    html = page.get("/me/safer-gambling/").content.decode()
    assert "binds from 2026-03-03 12:00 UTC, 24 hours from now" in html
    assert '<time datetime="2026-03-03T12:00:00+00:00">' in html
    assert page.post("/me/safer-gambling/", {**limit, "remove": "on"}).status_code == 302
    assert Limit.objects.get().pending_amount is None


@pytest.mark.parametrize(
    "body",
    [
        {"action": "limit", "kind": "deposit", "period": "day"},
        {"action": "limit", "kind": "deposit", "period": "day", "amount": "-3"},
        {"action": "limit", "kind": "stake", "period": "week", "amount": "3.00"},
        {"action": "timeout", "days": "0"},
        {"action": "self_exclusion", "months": "6"},  # not confirmed
        {"action": "reality_check", "interval_minutes": "1"},
        {"action": "nonsense"},
    ],
)
def test_bad_input_on_the_page_is_a_400_and_changes_nothing(clock, page, body) -> None:
    reply = page.post("/me/safer-gambling/", body)
    assert reply.status_code == 400
    assert Limit.objects.filter(amount__isnull=False).count() == 0
    assert Restriction.objects.count() == 0


def test_a_break_from_the_page_signs_out_and_says_until_when(clock, page, bettor) -> None:
    reply = page.post("/me/safer-gambling/", {"action": "timeout", "days": "7"})
    assert reply.status_code == 200
    assert "Time-out until 2026-03-09 12:00 UTC." in reply.content.decode()
    assert not UserSession.objects.filter(user_id=bettor.pk).exists()
    assert page.get("/me/safer-gambling/").status_code == 302  # signed out


def test_self_exclusion_from_the_page_needs_the_confirmation(clock, page) -> None:
    reply = page.post("/me/safer-gambling/", {"action": "self_exclusion", "months": "12", "confirm": "on"})
    assert "Self-exclusion until 2027-03-02 12:00 UTC." in reply.content.decode()


def test_a_shorter_break_on_the_page_is_a_409_with_the_reason(clock, page, bettor) -> None:
    timeout_take(user=bettor, days=30, actor=bettor)
    page.force_login(bettor)
    reply = page.post("/me/safer-gambling/", {"action": "timeout", "days": "7"})
    assert reply.status_code == 409
    html = reply.content.decode()
    assert "never shortened" in html
    assert 'id="restriction"' in html


def test_the_wallet_page_refuses_a_deposit_past_a_limit(clock, page) -> None:
    page.post("/me/safer-gambling/", {"action": "limit", "kind": "deposit", "period": "day", "amount": "10.00"})
    reply = page.post("/me/wallet/", {"kind": "deposit", "amount": "10.01", "idempotency_key": "k"})
    assert reply.status_code == 409
    html = reply.content.decode()
    assert "over the last 24 hours: you may deposit up to 10.00 now." in html
    assert 'data-code="deposit_limit_reached"' in html
    assert f'<a href="{SAFER_GAMBLING_PAGE}">Your safer-gambling settings</a>' in html


@pytest.mark.parametrize(
    ("take", "code", "words"),
    [
        (
            lambda user: timeout_take(user=user, days=7, actor=user),
            "on_break",
            "You are taking a break until 2026-03-09 12:00 UTC",
        ),
        (
            lambda user: self_exclusion_take(user=user, months=6, actor=user),
            "self_excluded",
            "You are self-excluded until 2026-09-02 12:00 UTC",
        ),
    ],
)
def test_a_deposit_from_the_wallet_page_during_a_break_is_refused_with_its_code_and_changes_nothing(
    clock, page, bettor, take, code, words
) -> None:
    take(bettor)
    page.force_login(bettor)  # signed in again, as a bettor on a break may be, to withdraw
    before = money_state(bettor)
    reply = page.post("/me/wallet/", {"kind": "deposit", "amount": "20.00", "idempotency_key": "k"})
    assert reply.status_code == 403
    html = reply.content.decode()
    assert f'data-code="{code}"' in html
    assert f"{words}: no deposit until it ends. You can still withdraw" in html
    assert f'<a href="{SAFER_GAMBLING_PAGE}">' in html
    assert money_state(bettor) == before
    assert page.post("/me/wallet/", {"kind": "withdrawal", "amount": "5.00", "idempotency_key": "w"}).status_code == 302


def test_the_exports_linked_from_the_pages_work_during_a_break(clock, page, client, bettor, far_match) -> None:
    assert bet(client, far_match).status_code == 201
    self_exclusion_take(user=bettor, months=6, actor=bettor)
    page.force_login(bettor)
    # The bet; the ledger's opening credit and the stake.
    exports = (("/me/bets/", "/api/bets/export/", 1), ("/me/wallet/", "/api/wallet/ledger/export/", 2))
    for path, export, count in exports:
        listing = page.get(path)
        assert listing.status_code == 200
        assert f'href="{export}"' in listing.content.decode()
        reply = page.get(export)
        assert reply.status_code == 200
        rows = list(csv.DictReader(io.StringIO(b"".join(reply.streaming_content).decode())))
        assert len(rows) == count


def test_a_socket_of_an_account_on_a_break_opens_without_private_events(clock, bettor) -> None:
    """What the consumer asks before it joins the user's private group (realtime.consumers)."""
    from realtime.credentials import private_feed_refusal

    assert private_feed_refusal(bettor.pk) is None
    timeout_take(user=bettor, days=1, actor=bettor)
    assert "Time-out until" in (private_feed_refusal(bettor.pk) or "")
    clock.move_to(T0 + timedelta(days=1))
    assert private_feed_refusal(bettor.pk) is None
