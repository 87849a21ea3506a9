"""Creating and editing matches: the trading staff's writes outside the lifecycle.

The lifecycle itself (open, suspend, close, settle, void) is `betting.settlement`.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from betting import events
from betting.engine.model import compute_quote
from betting.errors import MatchStarted
from betting.models import Match, MatchStatus, OddsVersion
from betting.pricing import ODDS_RECOMPUTE_FIELDS, engine_params, markets_as_strings

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
