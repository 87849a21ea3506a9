"""The admin creates matches through the service, and shows the odds history read-only."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone

from betting import streams as odds_streams
from betting.models import Match, MatchStatus, OddsVersion, PriceOverride
from betting.permissions import TRADERS_GROUP
from betting.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/betting/match/add/"


def add_form(kickoff: datetime, **fields: str) -> dict[str, str]:
    local = timezone.localtime(kickoff)
    return {
        "home_team": "Reims",
        "away_team": "Metz",
        "kickoff_0": local.strftime("%Y-%m-%d"),
        "kickoff_1": local.strftime("%H:%M:%S"),
        "status": MatchStatus.SCHEDULED,
        "opening_home": "1.90",
        "opening_draw": "3.50",
        "opening_away": "4.10",
        **fields,
    }


def form_errors(reply: Any) -> dict[str, list[str]]:
    form = reply.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_admin_creates_a_match_like_the_api_with_markets_and_an_announcement(
    admin_client, published, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = admin_client.post(ADD, add_form(timezone.now() + timedelta(days=2), status=MatchStatus.OPEN))
    assert reply.status_code == 302, reply.content.decode()[:2000]
    match = Match.objects.get(home_team="Reims")
    assert LogEntry.objects.get().object_id == str(match.pk)  # the admin logged the service's row
    assert match.status == MatchStatus.OPEN and match.current_prices == match.opening_prices
    rows = {row.key: row.prices for row in match.market_rows.all()}
    assert len(rows) == 15 and {"over_under_2_5", "correct_score"} <= set(rows)  # priced by the book
    assert OddsVersion.objects.get(match=match).markets == rows
    override = PriceOverride.objects.get(match=match)  # the typed odds are a recorded override
    assert override.odds == {"home": "1.90", "draw": "3.50", "away": "4.10"} and override.created_by is not None
    assert [(stream, frame["type"], frame["match"]) for stream, frame, _ in published] == [
        (odds_streams.ODDS, "match", match.pk)
    ]


def test_admin_refuses_an_open_match_whose_kickoff_has_passed(admin_client, published) -> None:
    reply = admin_client.post(ADD, add_form(timezone.now() - timedelta(hours=1), status=MatchStatus.OPEN))
    assert reply.status_code == 200
    assert "kick-off has passed" in form_errors(reply)["kickoff"][0]
    assert not Match.objects.exists() and published == []


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"opening_home": "2.03"}, "__all__", "ladder: home"),
        ({"away_team": "reims"}, "away_team", "itself"),
        ({"status": MatchStatus.SETTLED}, "status", "valid choice"),
    ],
)
def test_admin_refuses_what_the_api_refuses(admin_client, fields, field, says) -> None:
    reply = admin_client.post(ADD, add_form(timezone.now() + timedelta(days=2), **fields))
    assert reply.status_code == 200
    assert says in " ".join(form_errors(reply)[field])
    assert not Match.objects.exists()


def test_adding_a_match_needs_the_trading_permission(client) -> None:
    from django.contrib.auth.models import Permission

    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_match", "add_match"]))
    client.force_login(clerk)
    assert client.post(ADD, add_form(timezone.now() + timedelta(days=2))).status_code == 403
    clerk.groups.add(Group.objects.get(name=TRADERS_GROUP))
    assert client.post(ADD, add_form(timezone.now() + timedelta(days=2))).status_code == 302
    assert Match.objects.count() == 1


def test_odds_history_is_read_only_in_the_admin(admin_client, match) -> None:
    version = OddsVersion.objects.get(match=match, version=1)  # the opening version
    assert admin_client.get("/admin/betting/oddsversion/").status_code == 200
    page = admin_client.get(f"/admin/betting/oddsversion/{version.pk}/change/")
    assert page.status_code == 200 and 'name="home"' not in page.content.decode()  # shown, not editable
    assert admin_client.get("/admin/betting/oddsversion/add/").status_code == 403
    reply = admin_client.post(
        f"/admin/betting/oddsversion/{version.pk}/change/",
        {"match": match.pk, "version": 1, "home": "9.00", "draw": "3.40", "away": "3.50", "bets_counted": 0},
    )
    assert reply.status_code == 403
    assert admin_client.post(f"/admin/betting/oddsversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403
    version.refresh_from_db()
    assert str(version.home) == "2.10"
