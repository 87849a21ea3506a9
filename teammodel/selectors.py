"""Reads of the team model: teams, results, the latest ratings, and a fixture's score prior."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from teammodel.dixon_coles import FloatArray, Ratings
from teammodel.models import RatingFit, Result, Team
from teammodel.results import MatchResult, ResultsTable


class NoRatings(LookupError):
    """No fitted ratings cover the fixture: its league was never fitted, or is unknown."""


@dataclass(frozen=True)
class ScorePrior:
    """What the pricing engine reads for a fixture: the score matrix and its expected goals.

    `matrix[i, j]` is P(home goals = i, away goals = j) for i, j in 0..10 (the tail beyond 10
    renormalised away); `home_goals` and `away_goals` are the rates λ and μ behind it, and `rho`
    the low-score correction, which `teammodel.inplay.final_score_matrix` takes in play.
    """

    matrix: FloatArray
    home_goals: float
    away_goals: float
    rho: float
    league: str
    fit_id: int


def result_list_for_league(*, league: str) -> QuerySet[Result]:
    return Result.objects.filter(league=league).select_related("home", "away").order_by("date", "id")


def league_list_with_results() -> list[str]:
    return sorted(Result.objects.order_by().values_list("league", flat=True).distinct())


def results_table_for_league(*, league: str) -> ResultsTable:
    return ResultsTable.from_results(
        [
            MatchResult(
                season=r.season,
                date=r.date,
                home=r.home.name,
                away=r.away.name,
                home_goals=r.home_goals,
                away_goals=r.away_goals,
                home_goals_half_time=r.home_goals_half_time,
                away_goals_half_time=r.away_goals_half_time,
                home_shots_on_target=r.home_shots_on_target,
                away_shots_on_target=r.away_shots_on_target,
                home_red_cards=r.home_red_cards,
                away_red_cards=r.away_red_cards,
            )
            for r in result_list_for_league(league=league)
        ]
    )


def team_list_of_latest_season(*, league: str) -> list[str]:
    """The names of the teams that play in `league`'s latest season imported, sorted."""
    latest = Result.objects.filter(league=league).order_by("-date").values_list("season", flat=True).first()
    if latest is None:
        return []
    rows = Result.objects.filter(league=league, season=latest).values_list("home__name", "away__name")
    return sorted({name for pair in rows for name in pair})


def rating_fit_latest(*, league: str) -> RatingFit | None:
    return RatingFit.objects.filter(league=league).order_by("-fitted_at", "-id").first()


def ratings_of_fit(fit: RatingFit) -> Ratings:
    """The pure model's ratings stored by a fit."""
    rows = list(fit.team_ratings.select_related("team").order_by("team__name"))
    return Ratings(
        teams=tuple(r.team.name for r in rows),
        attack=np.array([r.attack for r in rows], dtype=np.float64),
        defence=np.array([r.defence for r in rows], dtype=np.float64),
        intercept=fit.intercept,
        home_advantage=fit.home_advantage,
        rho=fit.rho,
        newcomer_attack=fit.newcomer_attack,
        newcomer_defence=fit.newcomer_defence,
    )


def team_league(*, name: str) -> str | None:
    """The league of the team called `name`, if exactly one league has it."""
    leagues = list(Team.objects.filter(name=name).values_list("league", flat=True)[:2])
    return leagues[0] if len(leagues) == 1 else None


def fixture_score_prior(*, home: str, away: str, league: str | None = None) -> ScorePrior:
    """The latest ratings' score matrix for `home` at home to `away` (team names).

    `league` defaults to the home team's (or else the away team's) when one league has that
    name. A team the fit never saw (a promoted side before its first match) is priced with the
    fit's newcomer ratings. Raises NoRatings when no fit covers the fixture.
    """
    league = league or team_league(name=home) or team_league(name=away)
    if league is None:
        raise NoRatings(f"no league has a team called {home!r} or {away!r}")
    fit = rating_fit_latest(league=league)
    if fit is None:
        raise NoRatings(f"no ratings fitted for {league}")
    ratings = ratings_of_fit(fit)
    home_goals, away_goals = ratings.rates(home, away)
    return ScorePrior(
        matrix=ratings.score_matrix(home, away),
        home_goals=home_goals,
        away_goals=away_goals,
        rho=ratings.rho,
        league=league,
        fit_id=fit.pk,
    )
