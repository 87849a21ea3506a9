"""Creating and editing matches: the trading staff's writes outside the lifecycle.

The lifecycle itself (open, suspend, close, settle, void) is `betting.settlement`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from betting import events
from betting.engine.model import compute_quote
from betting.errors import MatchStarted
from betting.models import Match, MatchStatus, OddsVersion
from betting.pricing import ODDS_RECOMPUTE_FIELDS, engine_params, markets_as_strings
from betting.selectors import match_list_upcoming_open

# Written only by the services, holding the row lock: an edit form never writes them back.
MATCH_SERVICE_FIELDS = ("status", "result", "suspended_reason", "in_play", "bet_sequence", *ODDS_RECOMPUTE_FIELDS)


def match_not_started_check(match: Match) -> None:
    """Refuse once the kick-off time is reached, or the feed says the match is being played
    (an early kick-off). The clock and the feed decide, not the status: the status is closed
    by a periodic sweep that may run late, or not at all."""
    if match.in_play:
        raise MatchStarted(
            f"Match {match.pk} is in play: pre-match betting is over.",
            status=match.status,
            kickoff=match.kickoff.isoformat(),
        )
    if match.kickoff <= timezone.now():
        raise MatchStarted(
            f"Match {match.pk} kicked off at {match.kickoff.isoformat()}: betting is over.",
            status=match.status,
            kickoff=match.kickoff.isoformat(),
        )


@transaction.atomic
def match_save_edited_fields(*, match: Match, fields: list[str]) -> None:
    """Save a staff edit of a match: only the fields that were edited, under the row lock.

    The form read the whole row a while ago; writing all of it back would undo any bet or
    recompute committed since (the sequence, the counted bets, the prices, the version, a
    status change). The lock orders this write after any bet in flight."""
    edited = [name for name in fields if name not in MATCH_SERVICE_FIELDS]
    Match.objects.select_for_update().values_list("pk", flat=True).get(pk=match.pk)
    if edited:
        match.save(update_fields=edited)


def match_create_check(*, kickoff: datetime, status: str) -> None:
    """Refuse to create a match open for betting once its kick-off has passed: the rule of
    `match_create`, also run by a form before it calls it."""
    if status == MatchStatus.OPEN and kickoff <= timezone.now():
        message = "A match cannot be created open once its kick-off has passed."
        raise MatchStarted(message, errors={"kickoff": [message]})


@transaction.atomic
def match_create(
    *,
    home_team: str,
    away_team: str,
    kickoff: datetime,
    opening: dict[str, Decimal],
    status: str = MatchStatus.OPEN,
) -> Match:
    """Create a match at its opening prices, with every derived market and its first odds
    version, and announce it. Refused open once its kick-off has passed."""
    match_create_check(kickoff=kickoff, status=status)
    quote = compute_quote(opening, params=engine_params())
    match = Match.objects.create(
        markets=markets_as_strings(quote.markets),
        home_team=home_team,
        away_team=away_team,
        kickoff=kickoff,
        status=status,
        opening_home=opening["home"],
        opening_draw=opening["draw"],
        opening_away=opening["away"],
        odds_home=opening["home"],
        odds_draw=opening["draw"],
        odds_away=opening["away"],
    )
    OddsVersion.objects.create(
        match=match,
        version=1,
        home=opening["home"],
        draw=opening["draw"],
        away=opening["away"],
        markets=match.markets,
    )
    # Boards already open learn of the match from this frame (they fetch its details), so a
    # new match appears without a reload; `match_transition` announces every later change.
    events.match_status_publish_on_commit(match)
    return match


@dataclass(frozen=True)
class Fixture:
    """A match that could be opened: its teams and opening prices (home, draw, away)."""

    home_team: str
    away_team: str
    opening: dict[str, Decimal]


def matches_top_up(
    *,
    wanted: int,
    fixtures: Iterable[Fixture],
    lead: timedelta = timedelta(days=1),
    spacing: timedelta = timedelta(hours=3),
) -> list[Match]:
    """Open matches from `fixtures` until at least `wanted` open matches have their kick-off
    ahead; returns the ones it created (none when there are enough already).

    Fixtures whose two teams already meet in an upcoming open match are skipped, so a board
    never shows one pairing twice; `fixtures` may be endless (it is read only as far as
    needed). New kick-offs start `lead` from the hour, or `spacing` after the last upcoming
    open match, whichever is later, and are `spacing` apart: the matches stay open that long
    whatever the clock says when this runs.
    """
    now = timezone.now()
    upcoming = list(match_list_upcoming_open(now=now).values_list("home_team", "away_team", "kickoff"))
    missing = wanted - len(upcoming)
    if missing <= 0:
        return []
    taken = {(home, away) for home, away, _ in upcoming}
    kickoff = now.replace(minute=0, second=0, microsecond=0) + lead
    if upcoming:
        kickoff = max(kickoff, max(at for _, _, at in upcoming) + spacing)
    created: list[Match] = []
    for fixture in fixtures:
        if len(created) == missing:
            break
        if (fixture.home_team, fixture.away_team) in taken:
            continue
        created.append(
            match_create(
                home_team=fixture.home_team,
                away_team=fixture.away_team,
                kickoff=kickoff,
                opening=fixture.opening,
                status=MatchStatus.OPEN,
            )
        )
        taken.add((fixture.home_team, fixture.away_team))
        kickoff += spacing
    return created
