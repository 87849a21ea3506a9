from decimal import Decimal

import pytest

from betting.tests.factories import MatchFactory

pytestmark = pytest.mark.django_db


def test_home_lists_open_matches_with_prices(client) -> None:
    match = MatchFactory(home_team="Lyon", away_team="Marseille")
    page = client.get("/").content.decode()
    assert "Lyon" in page and f'data-match-id="{match.pk}"' in page and "2.10" in page


def test_match_page_shows_prices_history_and_sets_csrf_cookie(client) -> None:
    from betting.services import match_create

    match = match_create(
        home_team="Lens",
        away_team="Brest",
        kickoff=MatchFactory.build().kickoff,
        opening={"home": Decimal("2.20"), "draw": Decimal("3.20"), "away": Decimal("3.40")},
    )
    reply = client.get(f"/matches/{match.pk}/")
    assert reply.status_code == 200
    assert "csrftoken" in reply.cookies
    body = reply.content.decode()
    assert "Lens v Brest" in body
    assert "Odds history" in body


def test_unknown_match_page_is_404(client) -> None:
    assert client.get("/matches/999999/").status_code == 404


def test_my_pages_need_sign_in_and_show_only_own_data(client) -> None:
    from betting.services import bet_place
    from betting.tests.factories import UserFactory

    assert client.get("/me/bets/").status_code == 302
    match = MatchFactory()
    owner, other = UserFactory(), UserFactory()
    bet = bet_place(user=owner, match_id=match.pk, selection="draw", stake=Decimal("12.00"))
    bet_place(user=other, match_id=match.pk, selection="away", stake=Decimal("7.00"))
    client.force_login(owner)
    bets_page = client.get("/me/bets/").content.decode()
    assert f'data-bet-id="{bet.pk}"' in bets_page and "7.00" not in bets_page
    wallet_page = client.get("/me/wallet/").content.decode()
    assert "988.00" in wallet_page  # 1000.00 credit - 12.00 stake


def test_password_reset_link_from_the_email_sets_a_new_password(client) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from betting.tests.factories import UserFactory

    user = UserFactory()
    url = f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"
    assert client.get(url).status_code == 200
    mismatch = client.post(url, {"new_password": "a-long-new-secret", "new_password_again": "other"})
    assert b"The two passwords differ." in mismatch.content
    done = client.post(url, {"new_password": "a-long-new-secret", "new_password_again": "a-long-new-secret"})
    assert b"Your password is changed" in done.content
    user.refresh_from_db()
    assert user.check_password("a-long-new-secret")
    reused = client.post(url, {"new_password": "another-secret-1", "new_password_again": "another-secret-1"})
    assert b"invalid or has expired" in reused.content
