"""Writes of the team model: importing results and refitting the ratings."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import transaction

from teammodel import jobs
from teammodel.forecast import DEFAULT, ModelConfig, league_fit, window_data
from teammodel.models import RatingFit, Result, Team, TeamRating
from teammodel.results import MatchResult, day_date, read_results_csv, read_results_dir
from teammodel.selectors import league_list_with_results, rating_fit_latest, ratings_of_fit, results_table_for_league

logger = logging.getLogger(__name__)

# The results shipped with the project (PDDL): one folder of season CSVs per league.
SHIPPED_RESULTS = Path(__file__).resolve().parent / "data" / "football"

# The columns an import may change on a result already stored (a corrected score, say).
RESULT_FIELDS = (
    "season",
    "home_goals",
    "away_goals",
    "home_goals_half_time",
    "away_goals_half_time",
    "home_shots_on_target",
    "away_shots_on_target",
    "home_red_cards",
    "away_red_cards",
)


@dataclass(frozen=True)
class ImportSummary:
    league: str
    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def results_read(path: Path) -> list[MatchResult]:
    """The results of one season file, or of every season file in a folder."""
    return read_results_dir(path) if path.is_dir() else read_results_csv(path)


def league_of_path(path: Path) -> str:
    """A results file's league: its folder's name (`.../premier-league/season-2324.csv`)."""
    return (path if path.is_dir() else path.parent).resolve().name


@transaction.atomic
def results_import(*, league: str, matches: Sequence[MatchResult], refit: bool = True) -> ImportSummary:
    """Store `matches` as `league`'s results: new ones created, changed ones updated.

    Idempotent: a result is identified by its date and teams, so a second import of the same
    file changes nothing. When anything changed, the league's ratings are refitted once the
    transaction has committed (on a worker; `refit=False` leaves it to the caller, who may fit
    at once with `ratings_refit`, or run where no broker is up yet).
    """
    names = {m.home for m in matches} | {m.away for m in matches}
    teams = {t.name: t for t in Team.objects.filter(league=league, name__in=names)}
    missing = [Team(league=league, name=name) for name in sorted(names - teams.keys())]
    Team.objects.bulk_create(missing, ignore_conflicts=True)
    teams = {t.name: t for t in Team.objects.filter(league=league, name__in=names)}

    existing: dict[tuple, Result] = {}
    if matches:
        earliest, latest = min(m.date for m in matches), max(m.date for m in matches)
        stored = Result.objects.filter(
            date__range=(earliest, latest), home__in=teams.values(), away__in=teams.values()
        ).select_for_update()
        existing = {(r.date, r.home_id, r.away_id): r for r in stored}

    created: list[Result] = []
    updated: list[Result] = []
    for match in matches:
        home, away = teams[match.home], teams[match.away]
        values = {field: getattr(match, field) for field in RESULT_FIELDS}
        result = existing.get((match.date, home.pk, away.pk))
        if result is None:
            created.append(Result(league=league, date=match.date, home=home, away=away, **values))
            existing[(match.date, home.pk, away.pk)] = created[-1]
        elif any(getattr(result, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(result, field, value)
            updated.append(result)
    Result.objects.bulk_create(created, batch_size=500)
    Result.objects.bulk_update(updated, [*RESULT_FIELDS, "imported_at"], batch_size=500)
    summary = ImportSummary(
        league=league, created=len(created), updated=len(updated), unchanged=len(matches) - len(created) - len(updated)
    )
    if summary.changed and refit:
        transaction.on_commit(lambda: jobs.ratings_refit_enqueue(league=league))
    return summary


@transaction.atomic
def ratings_refit(*, league: str, config: ModelConfig = DEFAULT) -> RatingFit | None:
    """Fit `league`'s ratings as of the day after its latest result, and store them.

    The season being predicted is the latest one imported; the previous fit warm-starts the
    optimiser and gives the relegated teams' ratings for the promoted ones' prior. Returns
    None when the league has no results.
    """
    table = results_table_for_league(league=league)
    if len(table) == 0:
        return None
    as_of_day = int(table.day[-1]) + 1
    season = len(table.seasons) - 1
    previous_fit = rating_fit_latest(league=league)
    previous = ratings_of_fit(previous_fit) if previous_fit is not None else None
    started = time.process_time()
    ratings = league_fit(table, as_of_day=as_of_day, season=season, config=config, previous=previous)
    elapsed = time.process_time() - started
    data = window_data(table, as_of_day=as_of_day, config=config)
    if ratings is None or data is None:  # pragma: no cover - a table with results always has a window
        return None
    fit = RatingFit.objects.create(
        league=league,
        as_of=day_date(as_of_day),
        window_start=day_date(as_of_day) - timedelta(days=config.window_days),
        season=table.seasons[season],
        matches=len(data.home),
        fit_seconds=elapsed,
        intercept=ratings.intercept,
        home_advantage=ratings.home_advantage,
        rho=ratings.rho,
        newcomer_attack=ratings.newcomer_attack,
        newcomer_defence=ratings.newcomer_defence,
        config=dataclasses.asdict(config),
    )
    teams = {t.name: t for t in Team.objects.filter(league=league, name__in=ratings.teams)}
    TeamRating.objects.bulk_create(
        TeamRating(fit=fit, team=teams[name], attack=float(attack), defence=float(defence))
        for name, attack, defence in zip(ratings.teams, ratings.attack, ratings.defence, strict=True)
    )
    logger.info("Refitted %s ratings on %d matches in %.3f s", league, fit.matches, elapsed)
    return fit


def league_ratings_load(*, folder: Path, league: str, seasons: int) -> RatingFit | None:
    """Import the latest `seasons` season files of a league's folder and fit its ratings, in
    this process, unless a fit already covers the latest result: cheap to run again.

    Four seasons hold everything a fit reads (the three-year window, and the season before the
    latest for the promoted teams' prior), so the ratings are those of an import of every season.
    Returns the league's latest fit (None when the folder holds no results).
    """
    files = sorted(folder.glob("*.csv"))[-seasons:]
    matches = sorted((m for path in files for m in read_results_csv(path)), key=lambda m: m.date)
    summary = results_import(league=league, matches=matches, refit=False)
    fit = rating_fit_latest(league=league)
    latest = Result.objects.filter(league=league).order_by("-date").values_list("date", flat=True).first()
    if latest is not None and (summary.changed or fit is None or fit.as_of <= latest):
        fit = ratings_refit(league=league)
    return fit


def ratings_refit_all(*, config: ModelConfig = DEFAULT) -> list[RatingFit]:
    """Refit every league that has results."""
    fits = [ratings_refit(league=league, config=config) for league in league_list_with_results()]
    return [fit for fit in fits if fit is not None]
