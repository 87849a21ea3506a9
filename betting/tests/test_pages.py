from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from betting.engine.markets import asian_handicap, market
from betting.matches import match_create
from betting.placement import bet_place
from betting.tests.factories import MatchFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_lists_open_matches_with_prices(client) -> None:
    match = MatchFactory(home_team="Lyon", away_team="Marseille")
    page = client.get("/").content.decode()
    assert "Lyon" in page and f'data-match-id="{match.pk}"' in page and "2.10" in page
    assert 'id="match-card-template"' in page  # the empty card new matches are built from
    assert 'id="bet-slip"' in page


def test_only_open_matches_have_clickable_prices(client) -> None:
    from betting.models import MatchStatus

    MatchFactory(status=MatchStatus.OPEN)
    MatchFactory(status=MatchStatus.SUSPENDED)
    page = client.get("/").content.decode()
    buttons = page.split('class="price-button"')[1:]
    # The template's empty card is disabled too (it has no status until it is filled).
    assert sum(" disabled>" in b.split(">", 1)[0] + ">" for b in buttons) == 6
    assert 'data-status="suspended">Suspended<' in page


def test_match_page_shows_prices_history_and_sets_csrf_cookie(client) -> None:
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
    assert "Lens</span> v <span" in body
    assert 'id="chart-data"' in body and '"version": 1' in body  # the chart's first point
    # Every market of the match, grouped, each selection a price button (the 1X2 heads the page).
    assert 'data-market="1x2" data-selection="home"' in body
    assert 'data-market="over_under_2_5" data-selection="over"' in body and ">Over 2.5<" in body
    assert 'data-market="correct_score" data-selection="2-1"' in body and ">Any other score<" in body
    assert ">Both teams to score<" in body and ">Lens or draw<" in body
    for line in match.asian_handicap_lines:
        assert f'data-market="{market(line_key(line)).key}"' in body
    assert 'id="match-state"' in body and 'id="timeline-data"' in body


def test_match_page_shows_the_latest_published_posts(client) -> None:
    from betting.tests.factories import UserFactory
    from blog.models import Post, PostStatus

    author = UserFactory.create()
    Post.objects.create(title="Team news", status=PostStatus.PUBLISHED, author_id=author.pk)
    Post.objects.create(title="Secret draft", status=PostStatus.DRAFT, author_id=author.pk)
    body = client.get(f"/matches/{MatchFactory().pk}/").content.decode()
    assert "Team news" in body and "Secret draft" not in body


def test_signup_page_creates_a_bettor_signs_them_in_and_explains_errors(client) -> None:
    reply = client.post("/accounts/signup/", {"email": "not-an-email", "password": "x"})
    assert reply.status_code == 200
    assert "Enter a valid email address." in reply.content.decode()
    reply = client.post(
        "/accounts/signup/", {"email": "Fan@Example.com", "password": "a-long-enough-passphrase", "next": "/me/wallet/"}
    )
    assert reply.status_code == 302 and reply["Location"] == "/me/wallet/"
    page = client.get("/me/wallet/").content.decode()
    assert "1000.00" in page and 'id="nav-balance"' in page
    client.logout()
    again = client.post("/accounts/signup/", {"email": "fan@example.com", "password": "a-long-enough-passphrase"})
    assert "Already registered." in again.content.decode()
    weak = client.post("/accounts/signup/", {"email": "other@example.com", "password": "123"})
    assert 'id="signup-password-error"' in weak.content.decode()


def test_signup_page_is_limited_per_address_like_the_api(client, throttle_rate, django_user_model) -> None:
    throttle_rate("auth", "2/minute")
    for n in range(2):
        client.post("/accounts/signup/", {"email": f"fan{n}@example.com", "password": "a-long-enough-passphrase"})
        client.logout()
    users = django_user_model.objects.count()
    refused = client.post("/accounts/signup/", {"email": "fan9@example.com", "password": "a-long-enough-passphrase"})
    assert refused.status_code == 429
    assert "Too many sign-ups" in refused.content.decode()
    assert django_user_model.objects.count() == users  # no account, no credit


def test_signup_never_redirects_off_site(client) -> None:
    reply = client.post(
        "/accounts/signup/",
        {"email": "fan2@example.com", "password": "a-long-enough-passphrase", "next": "https://evil.example/"},
    )
    assert reply["Location"] == "/"


def test_wallet_ledger_is_paged(client) -> None:
    from betting.tests.factories import UserFactory
    from betting.wallets import wallet_adjust, wallet_open

    user = UserFactory()
    wallet_open(user=user)
    for _ in range(25):
        wallet_adjust(user_id=user.pk, amount=Decimal("1.00"), memo="top-up", staff=None)
    client.force_login(user)
    first = client.get("/me/wallet/").content.decode()
    assert "Page 1 of 2" in first and first.count("<tr><td data-label") == 20
    second = client.get("/me/wallet/?page=2").content.decode()
    assert "Page 2 of 2" in second and second.count("<tr><td data-label") == 6


def test_unknown_match_page_is_404(client) -> None:
    assert client.get("/matches/999999/").status_code == 404


def test_my_pages_need_sign_in_and_show_only_own_data(client) -> None:
    assert client.get("/me/bets/").status_code == 302
    match = MatchFactory()
    owner, other = UserFactory(), UserFactory()
    bet = bet_place(user=owner, match_id=match.pk, selection="draw", stake=Decimal("12.00"), accept_odds_change="any")
    bet_place(user=other, match_id=match.pk, selection="away", stake=Decimal("7.00"), accept_odds_change="any")
    client.force_login(owner)
    bets_page = client.get("/me/bets/").content.decode()
    assert f'data-bet-id="{bet.pk}"' in bets_page and "7.00" not in bets_page
    wallet_page = client.get("/me/wallet/").content.decode()
    assert "988.00" in wallet_page  # 1000.00 credit - 12.00 stake


def test_password_reset_link_from_the_email_sets_a_new_password(client) -> None:
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


def line_key(line: float) -> str:
    return asian_handicap(line).key


def test_the_match_page_groups_the_markets_and_shows_a_suspension_with_its_reason(client) -> None:
    from betting.models import MatchStatus

    match = MatchFactory(home_team="Nantes", away_team="Lorient", status=MatchStatus.SUSPENDED, suspended_reason="goal")
    body = client.get(f"/matches/{match.pk}/").content.decode()
    titles = [title for title in ("Result", "Goals", "Asian handicap", "Correct score") if f">{title}</h3>" in body]
    assert titles == ["Result", "Goals", "Asian handicap", "Correct score"]
    assert body.index(">Result</h3>") < body.index(">Goals</h3>") < body.index(">Correct score</h3>")
    assert "Betting is suspended (goal)" in body
    assert 'data-market-status="suspended"' in body and 'data-market-status="open"' not in body
    # No market button can be pressed while the match is suspended.
    buttons = body.split('class="price-button')[1:]
    assert buttons and all(" disabled>" in button.split(">", 1)[0] + ">" for button in buttons)


def test_the_match_page_shows_decided_selections_won_or_lost_and_not_bettable(client) -> None:
    import re

    from betting.models import Market

    match = MatchFactory(home_team="Nantes", away_team="Lorient")
    Market.objects.filter(match_id=match.pk, key="over_under_0_5").update(
        prices={"over": None, "under": None}, decided={"over": "won", "under": "lost"}
    )
    Market.objects.filter(match_id=match.pk, key="correct_score").update(decided={"0-0": "lost"})
    body = client.get(f"/matches/{match.pk}/").content.decode()
    block = body.split('data-market="over_under_0_5"', 1)[1].split('<div class="market ', 1)[0]
    assert re.search(r'data-role="market-state">Decided</span>', block)
    over = block.split('data-selection="over"', 1)[1].split("</button>", 1)[0]
    assert 'data-decided="won"' in over and " disabled>" in over and ">Won</span>" in over
    assert ">Lost</span>" in block.split('data-selection="under"', 1)[1].split("</button>", 1)[0]
    scores = body.split('data-market="correct_score"', 1)[1]
    assert scores.startswith(' data-market-status="open"')
    assert 'data-role="market-state" hidden' in scores.split("</div>", 1)[0]  # one score lost: still open
    assert 'data-decided="lost"' in scores.split('data-selection="0-0"', 1)[1].split("</button>", 1)[0]


def test_the_board_counts_the_further_markets_and_lists_matches_in_play_first(client) -> None:
    later = MatchFactory(home_team="Later", kickoff=timezone.now() + timedelta(days=2))
    playing = MatchFactory(home_team="Playing", kickoff=timezone.now() + timedelta(days=3), in_play=True)
    page = client.get("/").content.decode()
    assert page.index('data-role="name-home">Playing<') < page.index('data-role="name-home">Later<')
    assert f'data-match-id="{playing.pk}"' in page and 'data-live="true"' in page
    count = later.market_rows.count() - 1
    assert f'+<span data-role="extra-count">{count}</span> markets' in page
    assert f'href="/matches/{later.pk}/" data-role="more-markets"' in page or (
        f'data-role="more-markets" href="/matches/{later.pk}/"' in page
    )


def test_my_bets_names_the_market_and_the_selection(client) -> None:
    user = UserFactory()
    match = MatchFactory(home_team="Metz", away_team="Brest")
    bet_place(
        user=user,
        match_id=match.pk,
        market="over_under_2_5",
        selection="over",
        stake=Decimal("5.00"),
        accept_odds_change="any",
    )
    client.force_login(user)
    body = client.get("/me/bets/").content.decode()
    assert "Total goals 2.5: Over 2.5" in body


def test_markets_and_selections_in_words() -> None:
    """The same words as lib/markets.js gives a live page (page-logic.test.mjs checks these too)."""
    from frontend.markets import bet_pick, market_name, selection_name

    assert market_name("over_under_2_5") == "Total goals 2.5"
    assert market_name("asian_handicap_minus_1_5", "Lyon", "Nice") == "Handicap Lyon -1.5"
    assert selection_name("asian_handicap_minus_1_5", "away", "Lyon", "Nice") == "Nice +1.5"
    assert selection_name("asian_handicap_plus_0_5", "home", "Lyon", "Nice") == "Lyon +0.5"
    assert selection_name("double_chance", "home_or_draw", "Lyon", "Nice") == "Lyon or draw"
    assert selection_name("double_chance", "draw_or_away", "Lyon", "Nice") == "Draw or Nice"
    assert selection_name("correct_score", "other") == "Any other score"
    assert selection_name("both_teams_to_score", "yes") == "Yes"
    assert bet_pick("1x2", "draw", "Lyon", "Nice") == "Draw"
    assert bet_pick("draw_no_bet", "home", "Lyon", "Nice") == "Draw no bet: Lyon"
    assert bet_pick("correct_score", "2-1") == "Correct score: 2-1"
    assert bet_pick("nonsense", "x") == "nonsense: x"
