"""Real matches from the football data as feed events: what `manage.py feed_replay` plays.

The data has the half-time and full-time scores and the red cards of each match, not their
minutes: the minutes are drawn, from a seeded generator, so that they agree with the scores
(first-half goals in minutes 1 to 45+, second-half goals in 46 to 90+). Opening prices come from
the season's own goals (attack and defence per team, independent Poisson): real teams, sensible
prices, and the same match always plays the same way for the same seed.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from betting.engine.ladder import snap_down
from inplay.state import Kind

HALF_TIME_BREAK_MINUTES = 15
PENALTY_SHARE = 0.12  # goals preceded by a penalty awarded a minute earlier (about the league rate)
MARGIN = Decimal("1.05")


@dataclass(frozen=True)
class PlayedMatch:
    league: str
    season: str
    date: str
    home: str
    away: str
    half_time: tuple[int, int]
    full_time: tuple[int, int]
    red_cards: tuple[int, int]


@dataclass(frozen=True)
class ScriptedEvent:
    """One event at `at` match minutes after the kick-off (the break counted in), with the
    match clock the provider would give (`minute`)."""

    at: float
    kind: Kind
    team: str = ""
    minute: int | None = None
    cancels_index: int | None = None


def seasons(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("*/season-*.csv"))


def season_matches(path: Path) -> list[PlayedMatch]:
    played = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                played.append(
                    PlayedMatch(
                        league=path.parent.name,
                        season=path.stem.removeprefix("season-"),
                        date=row["Date"],
                        home=row["HomeTeam"],
                        away=row["AwayTeam"],
                        half_time=(int(row["HTHG"]), int(row["HTAG"])),
                        full_time=(int(row["FTHG"]), int(row["FTAG"])),
                        red_cards=(int(row.get("HR") or 0), int(row.get("AR") or 0)),
                    )
                )
            except (KeyError, ValueError):
                continue  # a row with a score missing: not a match to replay
    return [m for m in played if m.half_time[0] <= m.full_time[0] and m.half_time[1] <= m.full_time[1]]


def script(match: PlayedMatch, rng: random.Random) -> list[ScriptedEvent]:
    """The events of `match`, in order: kick-off, goals, penalties and red cards at drawn minutes
    that agree with its scores, half-time, second half, full time."""
    first_stoppage, second_stoppage = rng.randint(1, 3), rng.randint(2, 5)
    half_time_at = 45 + first_stoppage
    second_half_at = half_time_at + HALF_TIME_BREAK_MINUTES
    full_time_at = second_half_at + 45 + second_stoppage

    # A goal falls at least a minute into its half, so the penalty drawn 0.6 minutes before it
    # still falls inside the half (never before the kick-off, nor in the break).
    def first_half_minute() -> float:
        return rng.uniform(1.0, 45 + first_stoppage - 0.5)

    def second_half_minute() -> float:
        return second_half_at + rng.uniform(1.0, 45 + second_stoppage - 0.5)

    def clock(at: float) -> int:
        return 1 + int(at) if at < half_time_at else 46 + int(at - second_half_at)

    events: list[ScriptedEvent] = []
    for team_index, team in enumerate(("home", "away")):
        first, total = match.half_time[team_index], match.full_time[team_index]
        for at in [first_half_minute() for _ in range(first)] + [second_half_minute() for _ in range(total - first)]:
            if rng.random() < PENALTY_SHARE:
                events.append(ScriptedEvent(at - 0.6, Kind.PENALTY, team, clock(at - 0.6)))
            events.append(ScriptedEvent(at, Kind.GOAL, team, clock(at)))
        for _ in range(match.red_cards[team_index]):
            at = first_half_minute() if rng.random() < 0.4 else second_half_minute()
            events.append(ScriptedEvent(at, Kind.RED_CARD, team, clock(at)))
    events.sort(key=lambda event: event.at)
    return [
        ScriptedEvent(0.0, Kind.KICK_OFF),
        *(event for event in events if event.at < half_time_at),
        ScriptedEvent(half_time_at, Kind.HALF_TIME, minute=half_time_at),
        ScriptedEvent(second_half_at, Kind.SECOND_HALF, minute=46),
        *(event for event in events if event.at > second_half_at),
        ScriptedEvent(full_time_at, Kind.FULL_TIME, minute=90 + second_stoppage),
    ]


def opening_prices(match: PlayedMatch, season: list[PlayedMatch]) -> dict[str, Decimal]:
    """1X2 opening prices from the season's goals: each side's expected goals is the league's
    average times its attack times the opponent's defence (ratios to the average), scored as
    independent Poisson, with a 5% margin, snapped down to the price ladder."""
    games = max(1, len(season))
    home_avg = sum(m.full_time[0] for m in season) / games or 1.4
    away_avg = sum(m.full_time[1] for m in season) / games or 1.1

    def ratio(team: str, scored: bool) -> float:
        goals, played = 0, 0
        for m in season:
            if team in (m.home, m.away):
                side = 0 if m.home == team else 1
                goals += m.full_time[side if scored else 1 - side]
                played += 1
        return (goals / played) / ((home_avg + away_avg) / 2) if played else 1.0

    home_rate = max(0.2, home_avg * ratio(match.home, True) * ratio(match.away, False))
    away_rate = max(0.2, away_avg * ratio(match.away, True) * ratio(match.home, False))
    home_goals = [math.exp(-home_rate) * home_rate**k / math.factorial(k) for k in range(11)]
    away_goals = [math.exp(-away_rate) * away_rate**k / math.factorial(k) for k in range(11)]
    p_home = sum(home_goals[i] * away_goals[j] for i in range(11) for j in range(11) if i > j)
    p_draw = sum(home_goals[i] * away_goals[i] for i in range(11))
    p_away = max(1e-6, 1 - p_home - p_draw)
    return {
        selection: snap_down(max(Decimal("1.01"), Decimal(1) / (Decimal(str(p)) * MARGIN)))
        for selection, p in (("home", p_home), ("draw", p_draw), ("away", p_away))
    }
