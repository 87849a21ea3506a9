"""The fold of a match's feed events: the rules, and that arrival order never matters."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from inplay.state import FeedItem, Kind, MatchState, Period, clock_minute, clock_text, fold

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def item(sequence: int, kind: Kind, **fields) -> FeedItem:
    fields.setdefault("event_id", f"e{sequence}")
    fields.setdefault("occurred_at", T0 + timedelta(minutes=sequence))
    return FeedItem(sequence=sequence, kind=kind, **fields)


def a_match() -> list[FeedItem]:
    return [
        item(1, Kind.KICK_OFF),
        item(2, Kind.GOAL, team="home", minute=12),
        item(3, Kind.PENALTY, team="away", minute=30),
        item(4, Kind.GOAL, team="away", minute=31),
        item(5, Kind.HALF_TIME),
        item(6, Kind.SECOND_HALF),
        item(7, Kind.RED_CARD, team="away", minute=60),
        item(8, Kind.GOAL, team="home", minute=70),
        item(9, Kind.GOAL_DISALLOWED, cancels="e8", minute=72),
        item(10, Kind.GOAL, team="home", minute=88),
        item(11, Kind.FULL_TIME),
    ]


def test_a_whole_match() -> None:
    state = fold(a_match())
    assert state.period == Period.FULL_TIME
    assert state.score == (2, 1)  # the 70th-minute goal was disallowed
    assert state.red_cards == (0, 1)
    assert state.result == "home"
    assert (state.events, state.last_sequence) == (11, 11)
    assert all(outcome.applied for outcome in state.outcomes)


def test_the_state_before_full_time_has_no_result() -> None:
    state = fold(a_match()[:6])
    assert (state.period, state.score, state.result) == (Period.SECOND_HALF, (1, 1), None)
    assert state.live


def test_a_duplicate_counts_once() -> None:
    events = a_match()
    assert fold([*events, events[1], events[3]]) == fold(events)


def test_a_late_goal_is_folded_in_its_place() -> None:
    events = a_match()
    late = item(4, Kind.GOAL, team="home", minute=40, event_id="late")  # same slot number, own id
    # It arrives after full time but its sequence falls in the first half: it counts.
    assert fold([*events, item(12, Kind.GOAL, team="home", minute=41, event_id="x")]).score == (2, 1)
    assert fold([*events[:4], *events[4:], late]).score == (3, 1)


def test_events_after_full_time_are_ignored_except_a_correction() -> None:
    events = [
        *a_match(),
        item(12, Kind.GOAL, team="away", minute=95),
        item(13, Kind.RED_CARD, team="home"),
        item(14, Kind.RESULT_CORRECTION, final_score=(2, 2)),
    ]
    state = fold(events)
    assert (state.score, state.red_cards, state.result) == ((2, 2), (0, 1), "draw")
    reasons = {outcome.event_id: outcome.reason for outcome in state.outcomes if not outcome.applied}
    assert reasons == {"e12": "after full time", "e13": "after full time"}


def test_the_last_correction_in_sequence_wins() -> None:
    events = [*a_match(), item(13, Kind.RESULT_CORRECTION, final_score=(0, 0))]
    events.append(item(12, Kind.RESULT_CORRECTION, final_score=(5, 0)))
    assert fold(events).score == (0, 0)


def test_events_that_do_not_fit_their_period_change_nothing() -> None:
    events = [
        item(1, Kind.GOAL, team="home", minute=1),  # before kick-off
        item(2, Kind.RESULT_CORRECTION, final_score=(9, 9)),  # before full time
        item(3, Kind.KICK_OFF),
        item(4, Kind.KICK_OFF, event_id="again"),
        item(5, Kind.GOAL_DISALLOWED, cancels="nothing"),
        item(6, Kind.GOAL, team="nobody"),
        item(7, Kind.HALF_TIME),
        item(8, Kind.GOAL, team="away", minute=46),  # at half-time
        item(9, Kind.RED_CARD, team="home"),  # at half-time: counts
    ]
    state = fold(events)
    assert (state.period, state.score, state.red_cards) == (Period.HALF_TIME, (0, 0), (1, 0))
    reasons = [outcome.reason for outcome in state.outcomes]
    assert reasons == [
        "before kick-off",
        "before kick-off",
        "",
        "already kicked off",
        "no such goal",
        "no team",
        "",
        "no goal at half-time",
        "",
    ]


def test_the_clock_runs_from_the_kick_off_and_the_second_half_at_the_clock_rate() -> None:
    kick_off = item(1, Kind.KICK_OFF, clock_rate=20.0)
    state = fold([kick_off])
    assert clock_minute(MatchState(), T0) is None
    assert clock_minute(state, kick_off.occurred_at) == 1
    assert clock_minute(state, kick_off.occurred_at + timedelta(seconds=69)) == 24  # 23 minutes played
    assert clock_minute(state, kick_off.occurred_at + timedelta(seconds=141)) == 48  # stoppage time
    second = fold([kick_off, item(2, Kind.HALF_TIME), item(3, Kind.SECOND_HALF)])
    assert clock_minute(second, second.second_half_at) == 46
    # Never behind the minute the provider gave with the latest event of the period.
    behind = fold([kick_off, item(2, Kind.GOAL, team="home", minute=30)])
    assert clock_minute(behind, kick_off.occurred_at) == 30
    assert clock_minute(fold(a_match()), T0) == 90


def test_the_clock_as_a_scoreboard_shows_it() -> None:
    assert clock_text("first_half", 23) == "23'"
    assert clock_text("first_half", 47) == "45+2'"
    assert clock_text("second_half", 93) == "90+3'"
    assert clock_text("half_time", 45) == "HT"
    assert clock_text("full_time", 90) == "FT"
    assert clock_text("pre_match", None) == ""


# --- Property: any arrival order of the same events gives the same state --------------------

raw_events = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=200),  # sequence
        st.sampled_from(list(Kind)),
        st.integers(min_value=0, max_value=6000),  # seconds after T0
        st.sampled_from(["home", "away"]),
        st.none() | st.integers(min_value=1, max_value=95),
        st.integers(min_value=0, max_value=24),  # which event a disallowed goal names
        st.none() | st.tuples(st.integers(0, 9), st.integers(0, 9)),
        st.sampled_from([None, 1.0, 25.0]),
    ),
    max_size=25,
    unique_by=lambda event: event[0],
)


@st.composite
def logs(draw) -> list[FeedItem]:
    """Random logs: any kinds in any order (valid or not), unique sequences and ids, goals that
    later events may cancel, and some duplicates delivered again."""
    events = [
        FeedItem(
            event_id=f"e{index}",
            sequence=sequence,
            kind=kind,
            occurred_at=T0 + timedelta(seconds=seconds),
            team=team,
            minute=minute,
            cancels=f"e{cancels}",
            final_score=final_score,
            clock_rate=rate,
        )
        for index, (sequence, kind, seconds, team, minute, cancels, final_score, rate) in enumerate(draw(raw_events))
    ]
    duplicates = draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    return events + duplicates


@settings(max_examples=150, deadline=None)
@given(log=logs(), data=st.data())
def test_any_permutation_of_the_same_events_gives_the_same_state(log: list[FeedItem], data) -> None:
    shuffled = data.draw(st.permutations(log))
    assert fold(shuffled) == fold(log)
    assert fold(shuffled).outcomes == fold(log).outcomes


@settings(max_examples=100, deadline=None)
@given(log=logs())
def test_the_score_is_the_standing_goals_unless_corrected(log: list[FeedItem]) -> None:
    state = fold(log)
    if state.corrected_score is None:
        assert sum(state.score) == len(state.goals)
        assert state.period != Period.PRE_MATCH or not state.goals
    else:
        assert state.period == Period.FULL_TIME
    assert state.events == len({event.event_id for event in log})
