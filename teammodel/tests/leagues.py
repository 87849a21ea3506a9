"""Small made-up leagues for the tests: results drawn from known team strengths."""

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from teammodel.results import MatchResult

HEADER = "Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,Referee,HS,AS,HST,AST,HF,AF,HC,AC,HY,AY,HR,AR\n"


def league(seasons: int = 4, seed: int = 1) -> list[MatchResult]:
    """Double round robins of eight teams, a season a year; each summer one team goes down
    and one comes up (Club A to H play the first season, Club B to I the second, ...)."""
    rng = np.random.default_rng(seed)
    strength = {f"Club {c}": rng.normal(0, 0.35) for c in "ABCDEFGHIJKLMN"}
    matches = []
    for season in range(seasons):
        teams = [f"Club {c}" for c in "ABCDEFGHIJKLMN"[season : season + 8]]
        day = date(2016 + season, 8, 10)
        fixtures = [(h, a) for h in teams for a in teams if h != a]
        rng.shuffle(fixtures)
        for number, (home, away) in enumerate(fixtures):
            home_goals = int(rng.poisson(np.exp(0.35 + strength[home] - strength[away])))
            away_goals = int(rng.poisson(np.exp(0.1 + strength[away] - strength[home])))
            matches.append(
                MatchResult(
                    season=f"{16 + season}{17 + season}",
                    date=day + timedelta(days=7 * (number // 4)),
                    home=home,
                    away=away,
                    home_goals=home_goals,
                    away_goals=away_goals,
                    home_goals_half_time=int(rng.binomial(home_goals, 0.45)),
                    away_goals_half_time=int(rng.binomial(away_goals, 0.45)),
                    home_shots_on_target=home_goals + int(rng.poisson(3)),
                    away_shots_on_target=away_goals + int(rng.poisson(3)),
                    home_red_cards=int(rng.random() < 0.05),
                    away_red_cards=int(rng.random() < 0.05),
                )
            )
    return matches


def _outcome(home: int, away: int) -> str:
    return "H" if home > away else "D" if home == away else "A"


def write_league(folder: Path, matches: list[MatchResult]) -> Path:
    """`matches` as season CSVs in `folder` (created), in the shipped data's format."""
    folder.mkdir(parents=True, exist_ok=True)
    for season in sorted({m.season for m in matches}):
        lines = [HEADER]
        for m in (m for m in matches if m.season == season):
            lines.append(
                f"{m.date.isoformat()},{m.home},{m.away},{m.home_goals},{m.away_goals},"
                f"{_outcome(m.home_goals, m.away_goals)},{m.home_goals_half_time},{m.away_goals_half_time},"
                f"{_outcome(m.home_goals_half_time or 0, m.away_goals_half_time or 0)},,10,9,"
                f"{m.home_shots_on_target},{m.away_shots_on_target},11,12,5,4,1,2,{m.home_red_cards},{m.away_red_cards}\n"
            )
        (folder / f"season-{season}.csv").write_text("".join(lines))
    return folder
