"""Time-outs and self-exclusion with a frozen clock: what the account may still do, the end of
every session and socket, and that a break is never shortened. Also the limits offered at
sign-up and the reality check."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import UserSession
from betting.models import Bet, LedgerEntry, Wallet
from betting.tests.factories import UserFactory, new_bet_key
from payments.models import Payment
from safergambling.models import AuditAction, AuditEntry, Limit, Restriction
from safergambling.selectors import private_feed_refusal
from safergambling.services import months_later
from safergambling.tests.conftest import T0

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def bet(client, match, stake: str = "10.00"):
    return client.post(
        "/api/bets/",
        {"match": match.pk, "selection": "home", "stake": stake, "accept_odds_change": "any"},
        **new_bet_key(),
    )


def money_state(user) -> tuple:
    wallet = Wallet.objects.get(user_id=user.pk)
    return wallet.balance, LedgerEntry.objects.count(), Payment.objects.count(), Bet.objects.count()


def signed_in_everywhere(user) -> tuple[Client, dict[str, str]]:
    """A page session and a JWT pair of the user, as a bettor signed in twice would have."""
    page = Client()
    assert page.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    tokens = APIClient().post("/api/auth/token/", {"email": user.email, "password": PASSWORD}).json()
    return page, tokens


@pytest.mark.parametrize(
    ("path", "body", "code", "ends_at"),
    [
        ("/api/me/time-out/", {"days": 1}, "on_break", T0 + timedelta(days=1)),
        ("/api/me/time-out/", {"days": 42}, "on_break", T0 + timedelta(days=42)),
        ("/api/me/self-exclusion/", {"months": 6}, "self_excluded", datetime(2026, 9, 2, 12, 0, tzinfo=UTC)),
    ],
)
def test_during_a_break_no_bet_or_deposit_but_withdrawals_and_history(
    clock, client, bettor, far_match, path, body, code, ends_at
) -> None:
    assert bet(client, far_match).status_code == 201
    taken = client.post(path, body)
    assert taken.status_code == 201, taken.json()
    assert taken.json()["ends_at"] == ends_at.isoformat().replace("+00:00", "Z")
    before = money_state(bettor)
    for refused in (bet(client, far_match), client.post("/api/wallet/deposits/", {"amount": "10.00"})):
        assert refused.status_code == 403
        assert refused.json()["code"] == code
        assert refused.json()["ends_at"] == ends_at.isoformat()
    assert money_state(bettor) == before
    assert client.post("/api/wallet/withdrawals/", {"amount": "5.00"}).status_code == 201
    assert client.get("/api/bets/").status_code == 200
    assert client.get("/api/wallet/ledger/").status_code == 200
    assert private_feed_refusal(bettor.pk) is not None

    clock.move_to(ends_at - timedelta(seconds=1))
    assert bet(client, far_match).json()["code"] == code
    clock.move_to(ends_at)
    assert bet(client, far_match).status_code == 201
    assert client.post("/api/wallet/deposits/", {"amount": "10.00"}).status_code == 201
    assert private_feed_refusal(bettor.pk) is None


def test_a_break_ends_every_session_token_and_socket_of_the_account(
    clock, bettor, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    revoked: list[dict] = []
    monkeypatch.setattr("realtime.credentials.revocation_publish", revoked.append)
    page, tokens = signed_in_everywhere(bettor)
    other = UserFactory()
    other_page, _ = signed_in_everywhere(other)
    assert UserSession.objects.filter(user_id=bettor.pk).count() == 1
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/me/time-out/", {"days": 7}).status_code == 201
    assert not UserSession.objects.filter(user_id=bettor.pk).exists()
    assert UserSession.objects.filter(user_id=other.pk).exists()  # nobody else's
    assert page.get("/me/wallet/").status_code == 302  # the page session is gone: sign in again
    assert other_page.get("/me/wallet/").status_code == 200
    assert APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert (
        BlacklistedToken.objects.filter(token__user=bettor).count()
        == OutstandingToken.objects.filter(user=bettor).count()
    )
    assert {"user": bettor.pk, "reason": "time-out"} in revoked  # every socket of the user, every process
    assert any("session" in frame for frame in revoked)


def test_a_bettor_on_a_break_can_sign_in_again_to_withdraw(clock, bettor) -> None:
    from safergambling.services import timeout_take

    timeout_take(user=bettor, days=1, actor=bettor)
    page, tokens = signed_in_everywhere(bettor)
    assert page.get("/me/wallet/").status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.post("/api/wallet/withdrawals/", {"amount": "5.00"}).status_code == 201


def test_a_break_is_never_shortened_nor_lifted(clock, client, bettor) -> None:
    assert client.post("/api/me/self-exclusion/", {"months": 12}).status_code == 201
    before = Restriction.objects.count(), AuditEntry.objects.count()
    for path, body in (("/api/me/time-out/", {"days": 42}), ("/api/me/self-exclusion/", {"months": 6})):
        refused = client.post(path, body)
        assert refused.status_code == 409
        assert refused.json()["code"] == "already_restricted"
    assert (Restriction.objects.count(), AuditEntry.objects.count()) == before
    assert client.post("/api/me/self-exclusion/", {"months": 24}).status_code == 201  # lengthened
    assert client.delete("/api/me/self-exclusion/").status_code == 405  # no way to lift it


def test_a_time_out_can_be_lengthened_and_then_self_exclusion_taken(clock, client, bettor) -> None:
    """Each break taken is audited with who took it and when; a refused one leaves no entry."""
    assert client.post("/api/me/time-out/", {"days": 1}).status_code == 201
    assert client.post("/api/me/time-out/", {"days": 1}).status_code == 409  # ends no later
    clock.move_to(T0 + timedelta(minutes=2))
    assert client.post("/api/me/time-out/", {"days": 7}).status_code == 201
    clock.move_to(T0 + timedelta(minutes=3))
    assert client.post("/api/me/self-exclusion/", {"months": 6}).status_code == 201
    assert client.get("/api/me/safer-gambling/").json()["restriction"]["kind"] == "self_exclusion"
    entries = list(
        AuditEntry.objects.order_by("id").values_list(
            "action", "kind", "old_value", "new_value", "actor", "created_at", "effective_at"
        )
    )
    week_ends = T0 + timedelta(minutes=2, days=7)
    assert entries == [
        (AuditAction.TIMEOUT_STARTED, "timeout", "", (T0 + timedelta(days=1)).isoformat(), bettor.pk, T0, T0),
        (
            AuditAction.TIMEOUT_STARTED,
            "timeout",
            (T0 + timedelta(days=1)).isoformat(),
            week_ends.isoformat(),
            bettor.pk,
            T0 + timedelta(minutes=2),
            T0 + timedelta(minutes=2),
        ),
        (
            AuditAction.SELF_EXCLUSION_STARTED,
            "self_exclusion",
            week_ends.isoformat(),
            months_later(T0 + timedelta(minutes=3), 6).isoformat(),
            bettor.pk,
            T0 + timedelta(minutes=3),
            T0 + timedelta(minutes=3),
        ),
    ]
    newest = client.get("/api/me/safer-gambling/").json()["audit"][0]
    assert (newest["action"], newest["actor"]) == ("self_exclusion_started", "you")


def test_a_break_taken_by_staff_is_audited_as_staff(clock, client, bettor, admin_user) -> None:
    from safergambling.services import timeout_take

    timeout_take(user=bettor, days=30, actor=admin_user)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.created_at) == (AuditAction.TIMEOUT_STARTED, admin_user.pk, T0)
    assert entry.new_value == (T0 + timedelta(days=30)).isoformat()
    assert client.get("/api/me/safer-gambling/").json()["audit"][0]["actor"] == "staff"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/me/time-out/", {"days": 0}),
        ("/api/me/time-out/", {"days": 43}),
        ("/api/me/time-out/", {"days": "7"}),
        ("/api/me/time-out/", {}),
        ("/api/me/self-exclusion/", {"months": 5}),
        ("/api/me/self-exclusion/", {"months": 61}),
        ("/api/me/self-exclusion/", {"months": 6.5}),
    ],
)
def test_a_bad_break_is_a_400_and_changes_nothing(clock, client, path, body) -> None:
    assert client.post(path, body).status_code == 400
    assert Restriction.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_self_exclusion_counts_calendar_months() -> None:
    assert months_later(datetime(2026, 8, 31, 9, tzinfo=UTC), 6) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert months_later(datetime(2026, 3, 2, 12, tzinfo=UTC), 60) == datetime(2031, 3, 2, 12, tzinfo=UTC)


def test_limits_chosen_at_sign_up_bind_at_once(clock, db) -> None:
    body = {
        "email": "careful@example.com",
        "password": "a-long-enough-passphrase",
        "limits": [
            {"kind": "deposit", "period": "week", "amount": "50.00"},
            {"kind": "stake", "period": "bet", "amount": "5.00"},
        ],
    }
    assert APIClient().post("/api/auth/register/", body).status_code == 201
    limits = {(limit.kind, limit.period): limit.amount for limit in Limit.objects.all()}
    assert limits == {("deposit", "week"): Decimal("50.00"), ("stake", "bet"): Decimal("5.00")}
    assert AuditEntry.objects.filter(action=AuditAction.LIMIT_SET).count() == 2


@pytest.mark.parametrize(
    "limits",
    [
        [{"kind": "deposit", "period": "bet", "amount": "50.00"}],
        [{"kind": "deposit", "period": "day", "amount": "-1"}],
        [{"kind": "deposit", "period": "day", "amount": "0.50"}],
        "none",
        [7],
    ],
)
def test_a_bad_limit_at_sign_up_is_a_400_and_opens_no_account(clock, db, limits) -> None:
    from django.contrib.auth.models import User

    body = {"email": "careful@example.com", "password": "a-long-enough-passphrase", "limits": limits}
    reply = APIClient().post("/api/auth/register/", body)
    assert reply.status_code == 400, reply.json()
    assert not User.objects.filter(username="careful@example.com").exists()


def test_the_sign_up_page_offers_the_limits(clock, db) -> None:
    page = Client()
    html = page.get("/accounts/signup/").content.decode()
    assert 'name="deposit_day"' in html and 'name="loss_month"' in html and 'name="stake_bet"' in html
    reply = page.post(
        "/accounts/signup/",
        {"email": "fan@example.com", "password": "a-long-enough-passphrase", "deposit_day": "20.00", "next": "/"},
    )
    assert reply.status_code == 302
    assert Limit.objects.get().amount == Decimal("20.00")


def test_the_reality_check_reports_the_session_since_sign_in(clock, bettor, far_match, settings) -> None:
    _page, tokens = signed_in_everywhere(bettor)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert bet(api, far_match, "25.00").status_code == 201
    clock.move_to(T0 + timedelta(minutes=61))
    refreshed = APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")  # the start survives a refresh
    check = api.get("/api/me/reality-check/").json()
    assert check == {
        "session_started_at": "2026-03-02T12:00:00Z",
        "elapsed_seconds": 61 * 60,
        "interval_minutes": 60,
        "interval_seconds": 3600,
        "staked": "25.00",
        "returned": "0.00",
        "net_result": "-25.00",
        "limits_url": "/me/safer-gambling/",
    }
    assert api.put("/api/me/reality-check/", {"interval_minutes": 30}).json()["interval_seconds"] == 30 * 60
    settings.REALITY_CHECK_SECONDS = 4  # one short interval for every account: demonstrations, browser tests
    assert api.get("/api/me/reality-check/").json()["interval_seconds"] == 4
    assert api.put("/api/me/reality-check/", {"interval_minutes": 5}).status_code == 400
    assert api.put("/api/me/reality-check/", {"interval_minutes": 241}).status_code == 400
    assert AuditEntry.objects.filter(action=AuditAction.REALITY_CHECK_SET).count() == 1


def test_the_reality_check_of_a_page_session_starts_at_sign_in(clock, bettor) -> None:
    page, _tokens = signed_in_everywhere(bettor)
    clock.move_to(T0 + timedelta(minutes=10))
    assert page.get("/api/me/reality-check/").json()["elapsed_seconds"] == 600
    assert 'id="reality-check"' in page.get("/").content.decode()


@pytest.mark.parametrize(
    ("path", "body"), [("/api/me/time-out/", {"days": 1}), ("/api/me/self-exclusion/", {"months": 6})]
)
def test_an_access_token_issued_before_a_break_is_refused_after_it(
    clock, bettor, monkeypatch, django_capture_on_commit_callbacks, path, body
) -> None:
    """The break revokes the account's HTTP credentials too, not only its sockets: an access
    token issued before it (still within its 5 minutes) gets 401 `token_revoked`."""

    monkeypatch.setattr("realtime.credentials.revocation_publish", lambda note: None)
    _, tokens = signed_in_everywhere(bettor)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/me/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(path, body).status_code == 201
    clock.shift(timedelta(seconds=30))  # within the access token's lifetime
    refused = api.get("/api/me/")
    assert (refused.status_code, refused.json()["code"]) == (401, "token_revoked")
    assert api.get("/api/wallet/").status_code == 401
