"""Prices in play: every market read from the final score given the state, priced again on
each feed event and on the clock, with the money moving them as before."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from betting import streams as odds_streams
from betting.models import Market, Match, MatchStatus
from betting.placement import bet_place
from betting.pricing import in_play_state, match_odds_recompute, pricing_distribution
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key
from inplay import services
from inplay.models import MatchState
from teammodel.inplay import Period

pytestmark = pytest.mark.django_db


def prices(match: Match, market: str) -> dict[str, Any]:
    row = Market.objects.get(match=match, key=market)
    return {selection: None if price is None else float(price) for selection, price in row.prices.items()}


def decided(match: Match, market: str) -> dict[str, str]:
    return Market.objects.get(match=match, key=market).decided


def version(match: Match) -> int:
    return Match.objects.get(pk=match.pk).odds_version


def frames(published: list, kind: str) -> list[dict]:
    return [frame for stream, frame, _ in published if stream == odds_streams.ODDS and frame["type"] == kind]


def clock_back(match: Match, minutes: float) -> None:
    """Move the kick-off `minutes` earlier: the clock reads that many minutes more."""
    row = MatchState.objects.get(match=match)
    assert row.kicked_off_at is not None
    row.kicked_off_at -= timedelta(minutes=minutes)
    row.save(update_fields=["kicked_off_at"])


def test_the_state_the_model_reads_follows_the_feed(feed, match) -> None:
    assert in_play_state(match) is None  # before the kick-off: the prior
    feed.send("kick_off")
    feed.send("goal", team="away", minute=12)
    feed.send("red_card", team="home", minute=20)
    match.refresh_from_db()
    kicked_off_at = MatchState.objects.get(match=match).kicked_off_at
    assert kicked_off_at is not None
    state = in_play_state(match, now=kicked_off_at + timedelta(minutes=30))
    assert state is not None
    assert (state.period, state.minute) == (Period.FIRST_HALF, 30.0)
    assert (state.home_goals, state.away_goals, state.home_red_cards, state.away_red_cards) == (0, 1, 1, 0)
    feed.send("full_time")
    match.refresh_from_db()
    assert in_play_state(match) is None  # settled on the final score: nothing left to price


def test_a_goal_for_home_shortens_home_and_lengthens_away(feed, match) -> None:
    feed.send("kick_off")
    before = prices(match, "1x2")
    feed.send("goal", team="home", minute=10)
    after = prices(match, "1x2")
    assert after["home"] < before["home"] and after["away"] > before["away"]
    over = prices(match, "over_under_2_5")
    assert over["over"] is not None and over["over"] < 1.9  # the first of three goals is in


def test_a_red_card_moves_the_price_against_the_side_down_to_ten(feed, match) -> None:
    feed.send("kick_off")
    before = prices(match, "1x2")
    feed.send("red_card", team="away", minute=10)
    after = prices(match, "1x2")
    assert after["home"] < before["home"] and after["away"] > before["away"]


def test_the_clock_shortens_the_draw_and_the_under_at_level_scores(feed, match, settings) -> None:
    feed.send("kick_off")
    before_1x2, before_total = prices(match, "1x2"), prices(match, "over_under_2_5")
    settings.INPLAY_REPRICE_MAX_MATCHES = 10
    clock_back(match, 60)
    written = version(match)
    assert services.in_play_reprice_request() == [match.pk]  # the beat's run; eager here
    assert version(match) == written + 1
    after_1x2, after_total = prices(match, "1x2"), prices(match, "over_under_2_5")
    assert after_1x2["draw"] < before_1x2["draw"]
    assert after_1x2["home"] > before_1x2["home"] and after_1x2["away"] > before_1x2["away"]
    assert after_total["under"] < before_total["under"]


def test_a_reprice_that_moves_nothing_writes_no_version(feed, match) -> None:
    feed.send("kick_off")
    feed.send("half_time")  # the clock stands still at half-time
    written = version(match)
    assert match_odds_recompute(match_id=match.pk, reprice=True) is None
    assert version(match) == written


def test_the_clock_reprices_only_matches_in_play_and_at_most_the_limit(feed, match) -> None:
    others = [MatchFactory() for _ in range(2)]
    assert services.in_play_reprice_request() == []  # nothing in play
    feed.send("kick_off")
    Match.objects.filter(pk__in=[other.pk for other in others]).update(in_play=True)
    assert set(services.in_play_reprice_request()) == {match.pk, *(other.pk for other in others)}
    assert len(services.in_play_reprice_request(limit=2)) == 2
    Match.objects.filter(pk=others[0].pk).update(status=MatchStatus.SETTLED)
    assert others[0].pk not in services.in_play_reprice_request()


def test_over_2_5_is_decided_once_three_goals_are_in(feed, match) -> None:
    feed.send("kick_off")
    for minute, team in ((5, "home"), (9, "away"), (14, "home")):
        feed.send("goal", team=team, minute=minute)
    for line in ("0_5", "1_5", "2_5"):
        # Won, so closed: no price on the over (it is certain) nor on the under (it is lost).
        assert prices(match, f"over_under_{line}") == {"over": None, "under": None}
        assert decided(match, f"over_under_{line}") == {"over": "won", "under": "lost"}
    assert set(prices(match, "over_under_3_5").values()) != {None}
    assert decided(match, "over_under_3_5") == {}
    match.refresh_from_db()
    distribution = pricing_distribution(match)
    assert distribution.sum() == pytest.approx(1.0)
    assert distribution[np.add.outer(range(11), range(11)) < 3].sum() == 0.0


def test_both_teams_to_score_is_decided_once_both_have_scored(feed, match) -> None:
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    assert set(prices(match, "both_teams_to_score").values()) != {None}
    assert decided(match, "both_teams_to_score") == {}
    feed.send("goal", team="away", minute=9)
    assert prices(match, "both_teams_to_score") == {"yes": None, "no": None}
    assert decided(match, "both_teams_to_score") == {"yes": "won", "no": "lost"}


def test_impossible_correct_scores_are_closed(feed, match) -> None:
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    feed.send("goal", team="home", minute=30)
    scores = prices(match, "correct_score")
    for score, price in scores.items():
        if score == "other":
            continue
        if int(score.split("-")[0]) < 2:
            assert price is None, score
    assert scores["2-0"] is not None and scores["3-1"] is not None


def test_a_goal_publishes_the_suspension_first_then_the_new_prices_it_reopens_at(
    feed, match, published, django_capture_on_commit_callbacks
) -> None:
    feed.send("kick_off")
    published.clear()
    feed.send("goal", team="home", minute=10)
    kinds = [frame["type"] for stream, frame, _ in published if stream == odds_streams.ODDS]
    assert kinds == ["match", "odds"]  # the suspension never waits for the engine
    [suspended] = frames(published, "match")
    [repriced] = frames(published, "odds")
    assert (suspended["status"], suspended["suspended_reason"]) == ("suspended", "goal")
    assert (repriced["status"], repriced["suspended_reason"]) == ("suspended", "goal")
    assert repriced["version"] == suspended["version"] + 1
    assert repriced["live"]["score"] == {"home": 1, "away": 0}
    assert repriced["markets"]["over_under_0_5"] == {"over": None, "under": None}
    published.clear()
    later = timezone.now() + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.match_markets_reopen(match_id=match.pk, now=later)
    [reopened] = frames(published, "match")
    assert reopened["status"] == "open" and reopened["version"] == repriced["version"]
    assert prices(match, "1x2") == repriced["markets"]["1x2"]


def test_the_money_still_moves_prices_in_play(feed, match) -> None:
    twin = Match.objects.get(pk=MatchFactory().pk)  # the same opening prices, no money
    for _ in range(3):
        bettor = UserFactory(wallet=Decimal("1000.00"))
        bet_place(user=bettor, match_id=match.pk, selection="home", stake=Decimal("400.00"), accept_odds_change="any")
    match_odds_recompute(match_id=match.pk)
    feed.send("kick_off")
    feed.send("goal", team="away", minute=10)
    for other in (twin,):
        Match.objects.filter(pk=other.pk).update(in_play=True)
        MatchState.objects.create(
            match=other,
            period="first_half",
            away_score=1,
            kicked_off_at=MatchState.objects.get(match=match).kicked_off_at,
            events_folded=2,
        )
        match_odds_recompute(match_id=other.pk, reprice=True)
    with_money, without = prices(match, "1x2"), prices(twin, "1x2")
    assert with_money["home"] < without["home"]  # the liability on home still shortens it
    assert prices(match, "over_under_2_5") != {"over": None, "under": None}


def test_decided_selections_are_published_refused_and_settled_as_they_said(
    feed, match, published, user_client, api_client
) -> None:
    """Bets taken before the kick-off on selections the goals then decide: the markers are
    published with the prices, a bet on a decided selection is refused, and full time settles
    every bet as its selection's marker said."""
    picks = [
        ("over_under_0_5", "over"),
        ("over_under_0_5", "under"),
        ("both_teams_to_score", "yes"),
        ("both_teams_to_score", "no"),
        ("correct_score", "0-0"),
        ("correct_score", "1-0"),
    ]
    bets = {
        pick: bet_place(
            user=UserFactory(),
            match_id=match.pk,
            market=pick[0],
            selection=pick[1],
            stake=Decimal("10.00"),
            accept_odds_change="any",
        )
        for pick in picks
    }
    feed.send("kick_off")
    assert all(row.decided == {} for row in Market.objects.filter(match=match))  # 0-0: nothing decided yet
    feed.send("goal", team="home", minute=5)
    published.clear()
    feed.send("goal", team="away", minute=9)
    [repriced] = frames(published, "odds")
    assert repriced["decided"]["over_under_0_5"] == {"over": "won", "under": "lost"}
    assert repriced["decided"]["both_teams_to_score"] == {"yes": "won", "no": "lost"}
    scores = repriced["decided"]["correct_score"]
    assert {score: scores.get(score) for score in ("0-0", "1-0", "0-1", "1-1")} == {
        "0-0": "lost",
        "1-0": "lost",
        "0-1": "lost",
        "1-1": None,
    }
    assert "1x2" not in repriced["decided"] and "over_under_2_5" not in repriced["decided"]
    assert api_client.get(f"/api/matches/{match.pk}/").json()["decided"] == repriced["decided"]

    services.match_markets_reopen(match_id=match.pk, now=timezone.now() + timedelta(minutes=1))
    refused = user_client.post(
        "/api/bets/",
        {
            "match": match.pk,
            "market": "both_teams_to_score",
            "selection": "yes",
            "stake": "5.00",
            "accept_odds_change": "any",
        },
        format="json",
        **new_bet_key(),
    )
    assert refused.status_code == 409, refused.content
    assert (refused.json()["code"], refused.json()["outcome"]) == ("selection_decided", "won")

    markers = {key: dict(row) for key, row in repriced["decided"].items()}
    feed.send("full_time")
    match.refresh_from_db()
    assert match.status == MatchStatus.SETTLED and match.final_score == (1, 1)
    for (key, selection), bet in bets.items():
        bet.refresh_from_db()
        assert bet.status == markers[key][selection], (key, selection)
