"""Match results in the shipped data's CSV format (`teammodel/data/football/README.md`).

A results folder holds one CSV per season (`season-1920.csv`, ...); each row is a match with
its date, teams, full-time and half-time goals, shots, shots on target and cards. Empty cells
(a match awarded without being played has no half-time score or statistics) read as missing.

Pure: the standard library and numpy; no Django.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REQUIRED_COLUMNS = ("Date", "HomeTeam", "AwayTeam", "FTHG", "FTAG")


class ResultsFormatError(ValueError):
    """A results file that cannot be read: missing columns, a bad date or score."""


@dataclass(frozen=True)
class MatchResult:
    """One row of a results file."""

    season: str
    date: date
    home: str
    away: str
    home_goals: int
    away_goals: int
    home_goals_half_time: int | None = None
    away_goals_half_time: int | None = None
    home_shots_on_target: int | None = None
    away_shots_on_target: int | None = None
    home_red_cards: int | None = None
    away_red_cards: int | None = None


def _optional_count(row: dict[str, str], column: str, where: str) -> int | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        raise ResultsFormatError(f"{where}: {column} is not a whole number: {value!r}") from None
    if count < 0:
        raise ResultsFormatError(f"{where}: {column} is negative: {value!r}")
    return count


def read_results_csv(path: Path, *, season: str | None = None) -> list[MatchResult]:
    """The matches of one season file. `season` defaults to the file name without `season-`."""
    season = season or path.stem.removeprefix("season-")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ResultsFormatError(f"{path.name}: missing columns {', '.join(missing)}")
        return list(_rows(reader, path.name, season))


def _rows(reader: Iterable[dict[str, str]], name: str, season: str) -> Iterator[MatchResult]:
    for line, row in enumerate(reader, start=2):
        where = f"{name} line {line}"
        try:
            played = date.fromisoformat(row["Date"].strip())
        except ValueError:
            raise ResultsFormatError(f"{where}: Date is not YYYY-MM-DD: {row['Date']!r}") from None
        home, away = row["HomeTeam"].strip(), row["AwayTeam"].strip()
        if not home or not away or home == away:
            raise ResultsFormatError(f"{where}: needs two different teams, got {home!r} and {away!r}")
        home_goals = _optional_count(row, "FTHG", where)
        away_goals = _optional_count(row, "FTAG", where)
        if home_goals is None or away_goals is None:
            raise ResultsFormatError(f"{where}: the full-time score is missing")
        yield MatchResult(
            season=season,
            date=played,
            home=home,
            away=away,
            home_goals=home_goals,
            away_goals=away_goals,
            home_goals_half_time=_optional_count(row, "HTHG", where),
            away_goals_half_time=_optional_count(row, "HTAG", where),
            home_shots_on_target=_optional_count(row, "HST", where),
            away_shots_on_target=_optional_count(row, "AST", where),
            home_red_cards=_optional_count(row, "HR", where),
            away_red_cards=_optional_count(row, "AR", where),
        )


def read_results_dir(folder: Path) -> list[MatchResult]:
    """Every season file of a league's folder (`*.csv`), in date order."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise ResultsFormatError(f"{folder}: no CSV files")
    matches = [m for path in files for m in read_results_csv(path)]
    matches.sort(key=lambda m: m.date)
    return matches


def _column(values: Iterable[int | None]) -> NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


@dataclass(frozen=True)
class ResultsTable:
    """A league's matches as columns (numpy arrays), in date order: what the fits slice."""

    seasons: tuple[str, ...]  # season labels in the order they were played
    season: NDArray[np.intp]  # index into `seasons`
    day: NDArray[np.int64]  # days since 1970-01-01
    home: NDArray[np.str_]
    away: NDArray[np.str_]
    home_goals: NDArray[np.float64]
    away_goals: NDArray[np.float64]
    home_goals_half_time: NDArray[np.float64]  # NaN where missing, as below
    away_goals_half_time: NDArray[np.float64]
    home_shots_on_target: NDArray[np.float64]
    away_shots_on_target: NDArray[np.float64]

    @classmethod
    def from_results(cls, matches: Sequence[MatchResult]) -> ResultsTable:
        ordered = sorted(matches, key=lambda m: m.date)
        first_played: dict[str, date] = {}
        for m in ordered:
            first_played.setdefault(m.season, m.date)
        seasons = tuple(sorted(first_played, key=first_played.__getitem__))
        season_index = {s: i for i, s in enumerate(seasons)}
        return cls(
            seasons=seasons,
            season=np.array([season_index[m.season] for m in ordered], dtype=np.intp),
            day=np.array([m.date.toordinal() - _EPOCH for m in ordered], dtype=np.int64),
            home=np.array([m.home for m in ordered], dtype=np.str_),
            away=np.array([m.away for m in ordered], dtype=np.str_),
            home_goals=_column(m.home_goals for m in ordered),
            away_goals=_column(m.away_goals for m in ordered),
            home_goals_half_time=_column(m.home_goals_half_time for m in ordered),
            away_goals_half_time=_column(m.away_goals_half_time for m in ordered),
            home_shots_on_target=_column(m.home_shots_on_target for m in ordered),
            away_shots_on_target=_column(m.away_shots_on_target for m in ordered),
        )

    def __len__(self) -> int:
        return len(self.day)

    def teams_of_season(self, season: int) -> set[str]:
        mask = self.season == season
        return set(self.home[mask].tolist()) | set(self.away[mask].tolist())


_EPOCH = date(1970, 1, 1).toordinal()


def day_number(value: date) -> int:
    """`value` as the table's day count (days since 1970-01-01)."""
    return value.toordinal() - _EPOCH


def day_date(day: int) -> date:
    return date.fromordinal(int(day) + _EPOCH)
