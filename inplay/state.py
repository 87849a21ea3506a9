"""A match's state as the fold of its feed events: pure, no Django.

The ordering rule: the state is always the fold of the whole log sorted by the provider's
sequence number, whatever order the events arrived in. A late event is inserted in its place
and the state computed again, so any arrival order of the same events gives the same state,
and a duplicate (the same provider event id) counts once.

Walking the log in sequence order, an event that does not fit the period it falls in has no
effect and says why (`Outcome.reason`):

- nothing but the kick-off counts before the kick-off;
- goals and penalties count in the first and second halves; red cards in the halves and at
  half-time (a player can be sent off in the tunnel);
- half-time follows the first half; the second half follows the first half or half-time;
  full time ends any period of play;
- after full time only a result correction counts, and a correction counts only after full
  time: it sets the final score, the last one in sequence winning;
- a disallowed goal cancels the standing goal whose event id it names.

An event that arrives late but whose sequence falls before full time is folded in its place:
a goal before the whistle that arrives after it changes the final score, and settlement
follows the fold (docs/in-play.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    KICK_OFF = "kick_off"
    GOAL = "goal"
    GOAL_DISALLOWED = "goal_disallowed"
    RED_CARD = "red_card"
    PENALTY = "penalty"
    HALF_TIME = "half_time"
    SECOND_HALF = "second_half"
    FULL_TIME = "full_time"
    RESULT_CORRECTION = "result_correction"


class Period(StrEnum):
    PRE_MATCH = "pre_match"
    FIRST_HALF = "first_half"
    HALF_TIME = "half_time"
    SECOND_HALF = "second_half"
    FULL_TIME = "full_time"


PLAYING = frozenset({Period.FIRST_HALF, Period.SECOND_HALF})
LIVE = frozenset({Period.FIRST_HALF, Period.HALF_TIME, Period.SECOND_HALF})
TEAMS = ("home", "away")
# Events that change what a goal is worth: the book suspends the match's markets on them.
SUSPENDING = {Kind.GOAL: "goal", Kind.GOAL_DISALLOWED: "goal", Kind.RED_CARD: "red_card", Kind.PENALTY: "penalty"}
# A half's nominal length, in minutes: past it the clock shows stoppage time (45+2).
HALF_MINUTES = 45
# The fastest a kick-off's clock may run (match minutes per real minute): a whole match in
# under two seconds. The feed API refuses more, and the replay refuses a faster `--speed`
# rather than post a kick-off the feed would refuse (the match would never start).
MAX_CLOCK_RATE = 3600.0


@dataclass(frozen=True)
class FeedItem:
    """One feed event as the fold sees it."""

    event_id: str
    sequence: int
    kind: Kind
    occurred_at: datetime
    team: str = ""  # goal, red card, penalty: "home" or "away"
    minute: int | None = None  # the match clock the provider gave
    cancels: str = ""  # goal disallowed: the event id of the goal
    final_score: tuple[int, int] | None = None  # result correction: (home, away)
    clock_rate: float | None = None  # kick-off: match minutes per real minute (1 unless replayed faster)


@dataclass(frozen=True)
class Goal:
    event_id: str
    team: str
    minute: int | None


@dataclass(frozen=True)
class Outcome:
    """What one event did: `applied`, or not and why."""

    event_id: str
    applied: bool
    reason: str = ""


@dataclass(frozen=True)
class MatchState:
    period: Period = Period.PRE_MATCH
    goals: tuple[Goal, ...] = ()  # standing goals, in sequence order
    red_cards: tuple[int, int] = (0, 0)
    kicked_off_at: datetime | None = None
    second_half_at: datetime | None = None
    clock_rate: float = 1.0
    last_minute: int | None = None  # the latest minute a counted event of this period gave
    corrected_score: tuple[int, int] | None = None
    events: int = 0  # distinct events folded
    last_sequence: int = 0
    outcomes: tuple[Outcome, ...] = field(default=(), compare=False)

    @property
    def score(self) -> tuple[int, int]:
        if self.corrected_score is not None:
            return self.corrected_score
        home = sum(1 for goal in self.goals if goal.team == "home")
        return home, len(self.goals) - home

    @property
    def result(self) -> str | None:
        """The 1X2 result at full time (home, draw or away); None before."""
        if self.period != Period.FULL_TIME:
            return None
        home, away = self.score
        return "home" if home > away else "away" if away > home else "draw"

    @property
    def live(self) -> bool:
        return self.period in LIVE


def ordered(items: Iterable[FeedItem]) -> list[FeedItem]:
    """The log in sequence order, each event id once (the first in sequence wins)."""
    seen: set[str] = set()
    unique = []
    for item in sorted(items, key=lambda item: (item.sequence, item.event_id)):
        if item.event_id not in seen:
            seen.add(item.event_id)
            unique.append(item)
    return unique


def fold(items: Iterable[FeedItem]) -> MatchState:
    """The state after every event of the log, in sequence order (see the module's rules)."""
    state = MatchState()
    outcomes = []
    log = ordered(items)
    for item in log:
        after, reason = step(state, item)
        outcomes.append(Outcome(item.event_id, applied=not reason, reason=reason))
        state = after if not reason else state
    last = log[-1].sequence if log else 0
    return replace(state, events=len(log), last_sequence=last, outcomes=tuple(outcomes))


def step(state: MatchState, item: FeedItem) -> tuple[MatchState, str]:
    """One event on `state`: the new state, or the same one and why the event does not count."""
    kind, period = item.kind, state.period
    if period == Period.FULL_TIME and kind != Kind.RESULT_CORRECTION:
        return state, "after full time"
    if period == Period.PRE_MATCH and kind != Kind.KICK_OFF:
        return state, "before kick-off"
    if kind in (Kind.GOAL, Kind.RED_CARD, Kind.PENALTY) and item.team not in TEAMS:
        return state, "no team"
    minute = item.minute if item.minute is not None else state.last_minute
    match kind:
        case Kind.KICK_OFF:
            if period != Period.PRE_MATCH:
                return state, "already kicked off"
            rate = item.clock_rate if item.clock_rate and item.clock_rate > 0 else 1.0
            return replace(
                state, period=Period.FIRST_HALF, kicked_off_at=item.occurred_at, clock_rate=rate, last_minute=None
            ), ""
        case Kind.GOAL:
            if period not in PLAYING:
                return state, f"no goal at {period.replace('_', '-')}"
            goal = Goal(item.event_id, item.team, item.minute)
            return replace(state, goals=(*state.goals, goal), last_minute=minute), ""
        case Kind.GOAL_DISALLOWED:
            kept = tuple(goal for goal in state.goals if goal.event_id != item.cancels)
            if len(kept) == len(state.goals):
                return state, "no such goal"
            return replace(state, goals=kept, last_minute=minute), ""
        case Kind.RED_CARD:
            home, away = state.red_cards
            cards = (home + 1, away) if item.team == "home" else (home, away + 1)
            return replace(state, red_cards=cards, last_minute=minute if period in PLAYING else state.last_minute), ""
        case Kind.PENALTY:
            if period not in PLAYING:
                return state, f"no penalty at {period.replace('_', '-')}"
            return replace(state, last_minute=minute), ""
        case Kind.HALF_TIME:
            if period != Period.FIRST_HALF:
                return state, "not in the first half"
            return replace(state, period=Period.HALF_TIME), ""
        case Kind.SECOND_HALF:
            if period not in (Period.FIRST_HALF, Period.HALF_TIME):
                return state, "the second half has started"
            return replace(state, period=Period.SECOND_HALF, second_half_at=item.occurred_at, last_minute=None), ""
        case Kind.FULL_TIME:
            return replace(state, period=Period.FULL_TIME), ""
        case Kind.RESULT_CORRECTION:
            if period != Period.FULL_TIME:
                return state, "before full time"
            if item.final_score is None:
                return state, "no score"
            return replace(state, corrected_score=item.final_score), ""
    return state, "unknown kind"


def clock_minute(state: MatchState, now: datetime) -> int | None:
    """The match minute at `now` (1-based, stoppage time past 45 and 90): from the kick-off or
    second-half time at the state's clock rate, never behind the minute of the last counted
    event of the period. None before kick-off."""
    if state.period == Period.PRE_MATCH:
        return None
    if state.period == Period.HALF_TIME:
        return HALF_MINUTES
    if state.period == Period.FULL_TIME:
        return max(2 * HALF_MINUTES, state.last_minute or 0)
    start, first_minute = (
        (state.kicked_off_at, 1) if state.period == Period.FIRST_HALF else (state.second_half_at, HALF_MINUTES + 1)
    )
    elapsed = max(0.0, (now - start).total_seconds()) if start is not None else 0.0
    minute = first_minute + math.floor(elapsed * state.clock_rate / 60)
    return max(minute, state.last_minute or 0)


def clock_text(period: str, minute: int | None) -> str:
    """What a scoreboard shows: 23', 45+2', HT, FT (empty before kick-off)."""
    if period == Period.HALF_TIME:
        return "HT"
    if period == Period.FULL_TIME:
        return "FT"
    if minute is None or period == Period.PRE_MATCH:
        return ""
    end = HALF_MINUTES if period == Period.FIRST_HALF else 2 * HALF_MINUTES
    return f"{end}+{minute - end}'" if minute > end else f"{minute}'"
