"""The bettor's history: bets and ledger paginated and filtered (status, market, days, kind),
exported in full as streamed CSV, and paged through on /me/bets/ and /me/wallet/."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from rest_framework.test import APIClient

from betting.models import Bet, BetLeg, BetStatus, LedgerKind
from betting.tests.factories import MatchFactory, UserFactory
from betting.wallets import wallet_adjust

pytestmark = pytest.mark.django_db

DAY1 = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def bets_of(user, count: int, *, match=None, status: str = BetStatus.OPEN, at: datetime | None = None) -> list[Bet]:
    """`count` bets of the user written straight to the table (the list reads, it does not place)."""
    match = match or MatchFactory()
    start = match.bet_sequence
    settled = status != BetStatus.OPEN
    bets = Bet.objects.bulk_create(
        Bet(
            user=user,
            match=match,
            selection="home",
            stake=Decimal("1.00"),
            odds=Decimal("2.10"),
            odds_version=1,
            sequence=start + index + 1,
            status=status,
            payout=Decimal("0.00") if settled else None,
            settled_at=at or datetime.now(UTC) if settled else None,
        )
        for index in range(count)
    )
    match.bet_sequence = start + count
    match.save(update_fields=["bet_sequence"])
    if at is not None:
        Bet.objects.filter(pk__in=[bet.pk for bet in bets]).update(created_at=at)
    return bets


@pytest.fixture
def bettor():
    return UserFactory(wallet=Decimal("100.00"))


@pytest.fixture
def client(bettor) -> APIClient:
    client = APIClient()
    client.force_authenticate(bettor)
    return client


def test_the_bet_list_is_paginated_and_no_longer_cut_at_200(client, bettor) -> None:
    bets_of(bettor, 230)
    bets_of(UserFactory(), 5)  # someone else's
    first = client.get("/api/bets/").json()
    assert first["count"] == 230
    assert len(first["results"]) == 50
    assert first["next"].endswith("/api/bets/?page=2")
    last = client.get("/api/bets/?page=5").json()
    assert len(last["results"]) == 30
    assert last["next"] is None
    ids = [bet["id"] for page in range(1, 6) for bet in client.get(f"/api/bets/?page={page}").json()["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 230
    assert client.get("/api/bets/?page=6").status_code == 404


def test_bets_filter_by_status_market_and_days(client, bettor) -> None:
    bets_of(bettor, 3, at=DAY1)
    bets_of(bettor, 2, status=BetStatus.WON, at=DAY2)
    assert client.get("/api/bets/?status=won").json()["count"] == 2
    assert client.get("/api/bets/?status=open").json()["count"] == 3
    assert client.get("/api/bets/?market=1x2").json()["count"] == 5
    assert client.get("/api/bets/?market=over_under").json()["count"] == 0
    Bet.objects.filter(pk__in=Bet.objects.filter(user=bettor).values("pk")[:1]).update(
        market="over_under_2_5", selection="over"
    )
    assert client.get("/api/bets/?market=over_under").json()["count"] == 1
    assert client.get("/api/bets/?market=1x2").json()["count"] == 4
    assert client.get("/api/bets/?date_from=2026-03-02").json()["count"] == 2
    assert client.get("/api/bets/?date_to=2026-03-01").json()["count"] == 3  # the whole UTC day, to its last second
    assert client.get("/api/bets/?date_from=2026-03-01&date_to=2026-03-01&status=open").json()["count"] == 3
    assert client.get("/api/bets/?date_from=2026-03-03").json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "status=maybe",
        "status=",
        "market=horses",
        "date_from=yesterday",
        "date_to=2026-13-01",
        "date_from=2026-03-02&date_to=2026-03-01",
        "page=0",
        "page=abc",
    ],
)
def test_a_bad_filter_is_a_4xx_naming_it(client, bettor, query) -> None:
    bets_of(bettor, 1)
    reply = client.get(f"/api/bets/?{query}")
    assert reply.status_code in (400, 404)
    if reply.status_code == 400:
        assert reply.json()["code"] == "invalid"
        assert set(reply.json()["errors"]) <= {"status", "market", "date_from", "date_to"}


def test_the_ledger_filters_by_kind_and_days(client, bettor) -> None:
    for _ in range(3):
        wallet_adjust(user_id=bettor.pk, amount=Decimal("1.00"), memo="top-up", staff=None)
    client.post("/api/wallet/deposits/", {"amount": "10.00"})
    assert client.get("/api/wallet/ledger/").json()["count"] == 5  # with the sign-up credit
    assert client.get("/api/wallet/ledger/?kind=adjustment").json()["count"] == 3
    assert client.get("/api/wallet/ledger/?kind=deposit").json()["results"][0]["amount"] == "10.00"
    today = datetime.now(UTC).date()
    assert client.get(f"/api/wallet/ledger/?date_from={today}").json()["count"] == 5
    assert client.get(f"/api/wallet/ledger/?date_to={today - timedelta(days=1)}").json()["count"] == 0
    assert client.get("/api/wallet/ledger/?kind=gift").status_code == 400


def read_csv(reply) -> list[dict[str, str]]:
    assert isinstance(reply, StreamingHttpResponse)
    assert reply["Content-Type"] == "text/csv; charset=utf-8"
    assert reply["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(b"".join(reply.streaming_content).decode())))


def test_the_bet_export_streams_every_bet_of_the_user_and_only_theirs(client, bettor) -> None:
    match = MatchFactory(home_team='=HYPERLINK("http://evil")', away_team="@SUM(A1)")
    bets_of(bettor, 260, match=match)
    bets_of(UserFactory(), 4)
    rows = read_csv(client.get("/api/bets/export/"))
    assert len(rows) == 260
    assert rows[0]["home_team"] == '\'=HYPERLINK("http://evil")'  # never a formula in a spreadsheet
    assert rows[0]["away_team"] == "'@SUM(A1)"
    assert (rows[0]["stake"], rows[0]["odds"], rows[0]["market"], rows[0]["status"]) == ("1.00", "2.10", "1x2", "open")
    assert len(read_csv(client.get("/api/bets/export/?status=won"))) == 0


def test_the_bet_export_writes_an_accumulators_legs_in_its_selection_cell(client, bettor) -> None:
    from betting.accumulators import LegRequest, accumulator_place

    first, second = MatchFactory(), MatchFactory()
    accumulator_place(
        user=bettor,
        legs=[LegRequest(first.pk, "1x2", "home", None), LegRequest(second.pk, "over_under_2_5", "over", None)],
        stake=Decimal("5.00"),
        accept_odds_change="any",
    )
    legs = list(BetLeg.objects.order_by("position"))
    (row,) = read_csv(client.get("/api/bets/export/"))
    assert (row["match"], row["market"]) == ("", "accumulator")
    assert row["selection"] == (
        f"{first.pk}:1x2:home@{legs[0].odds:.2f}:open|{second.pk}:over_under_2_5:over@{legs[1].odds:.2f}:open"
    )


def test_the_ledger_export_has_every_entry(client, bettor) -> None:
    for _ in range(60):
        wallet_adjust(user_id=bettor.pk, amount=Decimal("-1.00"), memo="-correction", staff=None)
    rows = read_csv(client.get("/api/wallet/ledger/export/"))
    assert len(rows) == 61
    assert rows[0]["amount"] == "-1.00"  # money stays a number
    assert rows[0]["memo"] == "'-correction"
    assert rows[-1]["kind"] == LedgerKind.CREDIT
    assert len(read_csv(client.get("/api/wallet/ledger/export/?kind=credit"))) == 1


def test_exports_need_a_bettor_and_valid_filters(api_client, client) -> None:
    assert api_client.get("/api/bets/export/").status_code == 401
    assert api_client.get("/api/wallet/ledger/export/").status_code == 401
    assert client.get("/api/bets/export/?status=maybe").status_code == 400


def test_my_bets_pages_through_with_filters_and_offers_the_export(bettor) -> None:
    bets_of(bettor, 45, at=DAY1)
    bets_of(bettor, 2, status=BetStatus.WON, at=DAY2)
    page = Client()
    page.force_login(bettor)
    html = page.get("/me/bets/").content.decode()
    assert html.count("data-bet-id=") == 20
    assert "Page 1 of 3" in html
    assert 'href="/api/bets/export/"' in html
    filtered = page.get("/me/bets/?status=open&date_to=2026-03-01&page=3").content.decode()
    assert filtered.count("data-bet-id=") == 5
    assert "status=open&amp;date_to=2026-03-01&amp;page=2" in filtered
    assert 'href="/api/bets/export/?status=open&amp;date_to=2026-03-01"' in filtered
    assert page.get("/me/bets/?date_from=nonsense").status_code == 400


def test_my_wallet_filters_the_ledger_and_offers_the_export(bettor) -> None:
    for _ in range(3):
        wallet_adjust(user_id=bettor.pk, amount=Decimal("1.00"), memo="top-up", staff=None)
    page = Client()
    page.force_login(bettor)
    html = page.get("/me/wallet/?kind=credit").content.decode()
    ledger = html.split('id="ledger"', 1)[1]
    assert ledger.count('data-label="Kind">credit') == 1 and "adjustment" not in ledger.split("</table>")[0]
    assert 'href="/api/wallet/ledger/export/?kind=credit"' in html
    assert page.get("/me/wallet/?kind=gift").status_code == 400
