"""The markets of a match as the pages show them: names a bettor reads, grouped as a bookmaker
groups them. `lib/markets.js` gives a live page the same names (the slip, a new row of "My bets").

Only words and grouping: prices, statuses and maximum stakes are the market rows' own, and which
markets exist is `betting.engine.markets`'.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from betting.engine.markets import (
    ASIAN_HANDICAP,
    BOTH_TEAMS_TO_SCORE,
    CORRECT_SCORE,
    CORRECT_SCORE_OTHER,
    DOUBLE_CHANCE,
    DRAW_NO_BET,
    ONE_X_TWO,
    OVER_UNDER,
    UnknownMarket,
    market,
)
from betting.models import MARKET_STATUS_OF_MATCH, Market, Match, MatchStatus

# The groups of the match page, in order, and the kinds each holds. The 1X2 heads the page.
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("result", "Result", (DOUBLE_CHANCE, DRAW_NO_BET)),
    ("goals", "Goals", (OVER_UNDER, BOTH_TEAMS_TO_SCORE)),
    ("handicap", "Asian handicap", (ASIAN_HANDICAP,)),
    ("correct-score", "Correct score", (CORRECT_SCORE,)),
)
MISSING = "\u2013"  # an en dash: a price the page does not have
# What a decided selection shows in place of its price (lib/markets.js says the same).
DECIDED_WORDS = {"won": "Won", "lost": "Lost", "void": "Void"}


def _goals(line: float) -> str:
    return f"{line:.1f}"


def _handicap(line: float) -> str:
    return f"{line:+.1f}"


def market_name(key: str, home: str = "Home", away: str = "Away") -> str:
    """`over_under_2_5` → "Total goals 2.5"; `asian_handicap_minus_1_5` → "Handicap Lyon -1.5"."""
    try:
        found = market(key)
    except UnknownMarket:
        return key
    line = found.line or 0.0
    return {
        ONE_X_TWO: "Match result",
        DOUBLE_CHANCE: "Double chance",
        DRAW_NO_BET: "Draw no bet",
        OVER_UNDER: f"Total goals {_goals(line)}",
        BOTH_TEAMS_TO_SCORE: "Both teams to score",
        CORRECT_SCORE: "Correct score",
        ASIAN_HANDICAP: f"Handicap {home} {_handicap(line)}",
    }[found.kind]


def selection_name(key: str, selection: str, home: str = "Home", away: str = "Away") -> str:
    """The selection on its own, as its button says it: "Over 2.5", "Lyon or draw", "2-1"."""
    try:
        found = market(key)
    except UnknownMarket:
        return selection
    line = found.line or 0.0
    teams = {"home": home, "draw": "Draw", "away": away}
    if found.kind in (ONE_X_TWO, DRAW_NO_BET):
        return teams.get(selection, selection)
    if found.kind == DOUBLE_CHANCE:
        pairs = {
            "home_or_draw": f"{home} or draw",
            "home_or_away": f"{home} or {away}",
            "draw_or_away": f"Draw or {away}",
        }
        return pairs.get(selection, selection)
    if found.kind == OVER_UNDER:
        return f"{selection.capitalize()} {_goals(line)}"
    if found.kind == BOTH_TEAMS_TO_SCORE:
        return selection.capitalize()
    if found.kind == CORRECT_SCORE:
        return "Any other score" if selection == CORRECT_SCORE_OTHER else selection
    # Asian handicap: each side with its own handicap.
    return f"{home} {_handicap(line)}" if selection == "home" else f"{away} {_handicap(-line)}"


def bet_pick(key: str, selection: str, home: str = "Home", away: str = "Away") -> str:
    """A bet's pick in full, for a list of bets: "Total goals 2.5: Over 2.5", "Correct score: 2-1"."""
    if key == ONE_X_TWO:
        return selection_name(key, selection, home, away)
    return f"{market_name(key, home, away)}: {selection_name(key, selection, home, away)}"


@dataclass(frozen=True)
class SelectionView:
    key: str
    name: str
    price: str  # "2.10", or a dash while closed
    max_stake: str  # "2500.00", or "" while closed
    bettable: bool
    decided: str = ""  # in play, "won" or "lost" once the score has decided it: shown for the price


@dataclass(frozen=True)
class MarketView:
    key: str
    kind: str
    name: str
    status: str  # the market's status as the bettor sees it: its match's when that one is not open
    selections: tuple[SelectionView, ...]

    @property
    def decided(self) -> bool:
        """Every selection decided by the score (over 0.5 once a goal is in)."""
        return all(selection.decided for selection in self.selections)


@dataclass(frozen=True)
class GroupView:
    slug: str
    title: str
    markets: tuple[MarketView, ...]


def effective_status(match_status: str, market_status: str) -> str:
    """A market takes bets only while its match does: while the match is not open, the market
    shows what its match's status makes it (rows follow their match; this holds between the two
    writes too)."""
    if match_status != MatchStatus.OPEN:
        return str(MARKET_STATUS_OF_MATCH.get(match_status, market_status))
    return market_status


def market_view(match: Match, row: Market) -> MarketView:
    status = effective_status(match.status, row.status)
    selections = []
    for selection in market(row.key).selections:
        price = row.prices.get(selection)
        stake = row.max_stakes.get(selection)
        decided = row.decided.get(selection, "")
        if decided:
            shown = DECIDED_WORDS.get(decided, decided)
        else:
            shown = MISSING if price is None else f"{Decimal(str(price)):.2f}"
        selections.append(
            SelectionView(
                key=selection,
                name=selection_name(row.key, selection, match.home_team, match.away_team),
                price=shown,
                max_stake="" if stake is None or decided else str(stake),
                bettable=status == "open" and price is not None and not decided,
                decided=decided,
            )
        )
    return MarketView(
        key=row.key,
        kind=market(row.key).kind,
        name=market_name(row.key, match.home_team, match.away_team),
        status=status,
        selections=tuple(selections),
    )


def market_groups(match: Match, rows: Iterable[Market]) -> list[GroupView]:
    """Every market of the match but the 1X2 (which heads the page), grouped, in the
    catalogue's order within each group; a group with no market is left out."""
    views = [market_view(match, row) for row in sorted(rows, key=lambda row: row.position) if row.key != ONE_X_TWO]
    groups = []
    for slug, title, kinds in GROUPS:
        members = tuple(view for view in views if view.kind in kinds)
        if members:
            groups.append(GroupView(slug=slug, title=title, markets=members))
    return groups


def extra_markets(rows: Iterable[Any]) -> int:
    """How many markets a match offers beyond the 1X2 the board shows."""
    return sum(1 for row in rows if row.key != ONE_X_TWO)
