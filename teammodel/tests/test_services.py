"""Importing results, refitting the ratings, and a fixture's score prior (database)."""

import dataclasses
from datetime import date

import numpy as np
import pytest
from django.core.management import call_command

from teammodel import services
from teammodel.models import RatingFit, Result, Team, TeamRating
from teammodel.selectors import NoRatings, fixture_score_prior, ratings_of_fit
from teammodel.tests.leagues import league

pytestmark = pytest.mark.django_db


@pytest.fixture
def refits(monkeypatch) -> list[str | None]:
    """The leagues whose refit was enqueued (instead of running the task)."""
    queued: list[str | None] = []
    monkeypatch.setattr(services.jobs, "ratings_refit_enqueue", lambda *, league=None: queued.append(league))
    return queued


def test_import_creates_teams_and_results_and_queues_one_refit_after_commit(refits, django_capture_on_commit_callbacks):
    matches = league(seasons=2)
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.results_import(league="made-up", matches=matches)
    assert (summary.created, summary.updated, summary.unchanged) == (len(matches), 0, 0)
    assert Result.objects.filter(league="made-up").count() == len(matches)
    assert Team.objects.filter(league="made-up").count() == 9
    assert refits == ["made-up"]


def test_import_is_idempotent(refits, django_capture_on_commit_callbacks):
    matches = league(seasons=2)
    services.results_import(league="made-up", matches=matches)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.results_import(league="made-up", matches=matches)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(matches))
    assert Result.objects.count() == len(matches)
    assert callbacks == []  # nothing changed: no refit


def test_import_updates_a_corrected_score(refits, django_capture_on_commit_callbacks):
    matches = league(seasons=1)
    services.results_import(league="made-up", matches=matches)
    corrected = dataclasses.replace(matches[0], home_goals=matches[0].home_goals + 1)
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.results_import(league="made-up", matches=[corrected])
    assert (summary.created, summary.updated) == (0, 1)
    stored = Result.objects.get(date=corrected.date, home__name=corrected.home, away__name=corrected.away)
    assert stored.home_goals == corrected.home_goals
    assert refits[-1] == "made-up"


def test_refit_stores_the_ratings_of_the_pure_model(refits):
    services.results_import(league="made-up", matches=league(seasons=3))
    fit = services.ratings_refit(league="made-up")
    assert fit is not None
    assert fit.as_of == date(2018, 11, 10)  # the day after the last result
    assert fit.season == "1819"
    assert fit.matches == 3 * 56
    assert fit.fit_seconds < 2.0
    assert fit.config["prior_sd"] is not None
    assert TeamRating.objects.filter(fit=fit).count() == 10
    ratings = ratings_of_fit(fit)
    assert sum(ratings.attack) == pytest.approx(0, abs=1e-9)
    # A second refit warm-starts from the first; it lands on nearly the same ratings (the
    # promoted side's prior now comes from the first fit's relegated teams).
    second = services.ratings_refit(league="made-up")
    assert second.pk != fit.pk
    np.testing.assert_allclose(ratings_of_fit(second).attack, ratings.attack, atol=0.01)


def test_refit_of_a_league_without_results_stores_nothing():
    assert services.ratings_refit(league="nowhere") is None
    assert RatingFit.objects.count() == 0


def test_fixture_score_prior_is_the_contract_the_engine_reads(refits):
    services.results_import(league="made-up", matches=league(seasons=3))
    services.ratings_refit(league="made-up")
    prior = fixture_score_prior(home="Club D", away="Club E")
    assert prior.league == "made-up"
    assert prior.matrix.shape == (11, 11)
    assert (prior.matrix >= 0).all()
    assert prior.matrix.sum() == pytest.approx(1.0, abs=1e-12)
    goals = np.arange(11)
    assert goals @ prior.matrix.sum(axis=1) == pytest.approx(prior.home_goals, rel=1e-3)
    assert goals @ prior.matrix.sum(axis=0) == pytest.approx(prior.away_goals, rel=1e-3)
    # A promoted side never seen gets the newcomer's ratings rather than an error.
    promoted = fixture_score_prior(home="Club Z", away="Club E", league="made-up")
    assert promoted.matrix.sum() == pytest.approx(1.0)


def test_fixture_score_prior_without_ratings_raises():
    with pytest.raises(NoRatings):
        fixture_score_prior(home="Nobody", away="Nobody Else")
    Team.objects.create(league="empty", name="Lonely FC")
    with pytest.raises(NoRatings, match="no ratings fitted for empty"):
        fixture_score_prior(home="Lonely FC", away="Other FC")


def test_refit_task_refits_every_league_with_results(refits):
    services.results_import(league="one", matches=league(seasons=2, seed=1))
    services.results_import(league="two", matches=league(seasons=2, seed=2))
    from workers.tasks import refit_ratings

    fit_ids = refit_ratings.delay().get()
    assert sorted(RatingFit.objects.values_list("league", flat=True)) == ["one", "two"]
    assert sorted(fit_ids) == sorted(RatingFit.objects.values_list("pk", flat=True))
    assert refit_ratings.delay(league="one").get() == [RatingFit.objects.filter(league="one").first().pk]


def test_import_command_enqueues_the_refit_task_that_fits_the_league(tmp_path, django_capture_on_commit_callbacks):
    from teammodel.tests.leagues import write_league

    folder = write_league(tmp_path / "made-up", league(seasons=2))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_results", str(folder))
    # The task ran inline (CELERY_TASK_ALWAYS_EAGER in the unit settings): the ratings exist.
    fit = RatingFit.objects.get()
    assert fit.league == "made-up"
    assert fixture_score_prior(home="Club C", away="Club D").fit_id == fit.pk


def test_refit_is_scheduled_by_beat_and_routed_off_the_odds_queue():
    from teammodel.jobs import REFIT_RATINGS
    from workers.celery import _beat_schedule, app

    assert REFIT_RATINGS == "teammodel.refit_ratings"
    assert any(entry["task"] == REFIT_RATINGS for entry in _beat_schedule().values())
    assert app.conf.task_routes[REFIT_RATINGS]["queue"] == "default"
    assert REFIT_RATINGS in app.tasks


def test_league_ratings_load_imports_the_latest_seasons_fits_once_and_refits_on_new_results(
    tmp_path, refits, django_capture_on_commit_callbacks
):
    from teammodel.tests.leagues import write_league

    matches = league(seasons=5)
    folder = write_league(tmp_path / "made-up", matches)
    with django_capture_on_commit_callbacks(execute=True):
        fit = services.league_ratings_load(folder=folder, league="made-up", seasons=4)
    assert fit is not None and RatingFit.objects.count() == 1
    seasons = Result.objects.order_by().values_list("season", flat=True).distinct()
    assert sorted(seasons) == ["1718", "1819", "1920", "2021"]
    # The same as a fit on every season: the left-out first season is older than its window.
    everything = ratings_of_fit(fit)
    services.results_import(league="all", matches=matches, refit=False)
    full = services.ratings_refit(league="all")
    assert full is not None
    assert ratings_of_fit(full).teams == everything.teams
    np.testing.assert_allclose(ratings_of_fit(full).attack, everything.attack, atol=1e-6)
    RatingFit.objects.filter(league="all").delete()
    Result.objects.filter(league="all").delete()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.league_ratings_load(folder=folder, league="made-up", seasons=4) == fit  # nothing new
    # The provider adds a result: the next load imports it and fits again, in this process.
    later = dataclasses.replace(matches[-1], date=date(2021, 7, 1), home=matches[-1].away, away=matches[-1].home)
    write_league(folder, [*matches, later])
    with django_capture_on_commit_callbacks(execute=True):
        refitted = services.league_ratings_load(folder=folder, league="made-up", seasons=4)
    assert refitted is not None and refitted.pk != fit.pk and refitted.as_of == date(2021, 7, 2)
    assert refits == []  # never through the worker: the caller fitted
