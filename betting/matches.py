"""Creating and editing matches: the trading staff's writes outside the lifecycle.

The lifecycle itself (open, suspend, close, settle, void) is `betting.settlement`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from betting import events
from betting.engine.markets import ONE_X_TWO, asian_handicap_lines
from betting.errors import MatchStarted, MatchTransitionNotAllowed, NoOpeningPrices
from betting.models import MARKET_STATUS_OF_MATCH, Market, Match, MatchStatus, PriceOverride
from betting.pricing import (
    ODDS_RECOMPUTE_FIELDS,
    market_row_probabilities,
    market_row_values,
    match_quotes,
    odds_version_record,
    one_x_two_mirror,
)
from betting.priors import NoModelPrices, ScorePrior, prior_from_model, prior_from_odds
from betting.selectors import match_list_upcoming_open

# Written only by the services, holding the row lock: an edit form never writes them back.
MATCH_SERVICE_FIELDS = (
    "status",
    "result",
    "home_goals",
    "away_goals",
    "result_version",
    "suspended_reason",
    "in_play",
    "bet_sequence",
    "score_prior",
    "asian_handicap_lines",
    "opening_home",
    "opening_draw",
    "opening_away",
    *ODDS_RECOMPUTE_FIELDS,
)


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


def match_prior(
    *, home_team: str, away_team: str, opening: dict[str, Decimal] | None, league: str | None = None
) -> ScorePrior:
    """The score distribution a new match opens with: the trader's 1X2 odds when given, the
    team model's otherwise (NoOpeningPrices, a 400, when the model does not cover it)."""
    if opening is not None:
        return prior_from_odds(opening, settings.ODDS_MARGIN_METHOD)
    try:
        return prior_from_model(home_team=home_team, away_team=away_team, league=league)
    except NoModelPrices as exc:
        message = f"The team model cannot price {home_team} v {away_team} ({exc}): give `opening_odds`."
        raise NoOpeningPrices(message, errors={"opening_odds": [message]}) from None


def match_markets_open(match: Match, prior: ScorePrior) -> list[Market]:
    """Price every market of `match` (saved, with no bets yet) from `prior`, choosing its Asian
    handicap lines from it once, and store the rows, the 1X2 mirror (opening and current) and
    the current version's history row. Called once, at creation."""
    match.score_prior = prior.as_json()
    match.asian_handicap_lines = list(asian_handicap_lines(prior.matrix))
    quotes = match_quotes(match, {})
    one_x_two_mirror(match, quotes[ONE_X_TWO])
    # Every 1X2 selection opens priced (open_price raises otherwise: no match opens half-closed).
    opening = quotes[ONE_X_TWO]
    match.opening_home, match.opening_draw, match.opening_away = (
        opening.open_price(s) for s in ("home", "draw", "away")
    )
    match.save()
    status = MARKET_STATUS_OF_MATCH[match.status]
    rows = Market.objects.bulk_create(
        Market(
            match=match,
            key=key,
            position=position,
            status=status,
            probabilities=market_row_probabilities(quote),
            **market_row_values(quote),
        )
        for position, (key, quote) in enumerate(quotes.items())
    )
    odds_version_record(match, rows, bets_counted=match.bets_counted)
    return rows


@transaction.atomic
def match_create(
    *,
    home_team: str,
    away_team: str,
    kickoff: datetime,
    opening: dict[str, Decimal] | None = None,
    league: str | None = None,
    status: str = MatchStatus.OPEN,
    created_by: AbstractBaseUser | AnonymousUser | None = None,
) -> Match:
    """Create a match with every market priced and its first version, and announce it.

    Its score distribution is the team model's for the fixture, or, when a trader types
    `opening` 1X2 odds, the one those odds stand for (recorded as a `PriceOverride`).
    Refused open once its kick-off has passed."""
    match_create_check(kickoff=kickoff, status=status)
    prior = match_prior(home_team=home_team, away_team=away_team, opening=opening, league=league)
    match = Match(home_team=home_team, away_team=away_team, kickoff=kickoff, status=status)
    match.opening_home = match.opening_draw = match.opening_away = Decimal(0)  # set from the prices below
    match.save()
    match_markets_open(match, prior)
    if opening is not None:
        price_override_record(match=match, odds=opening, prior=prior, replaced={}, user=created_by)
    # Boards already open learn of the match from this frame (they fetch its details), so a
    # new match appears without a reload; `match_transition` announces every later change.
    events.match_status_publish_on_commit(match)
    return match


@dataclass(frozen=True)
class Fixture:
    """A match that could be opened: its teams, and a trader's opening 1X2 prices (home, draw,
    away) or None for the team model's (of `league`, or the home team's)."""

    home_team: str
    away_team: str
    opening: dict[str, Decimal] | None = None
    league: str | None = None


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
                league=fixture.league,
                status=MatchStatus.OPEN,
            )
        )
        taken.add((fixture.home_team, fixture.away_team))
        kickoff += spacing
    return created


def price_override_record(
    *,
    match: Match,
    odds: dict[str, Decimal],
    prior: ScorePrior,
    replaced: dict[str, Any],
    user: AbstractBaseUser | AnonymousUser | None,
) -> PriceOverride:
    return PriceOverride.objects.create(
        match=match,
        created_by=user if isinstance(user, User) else None,
        odds={s: f"{p:.2f}" for s, p in odds.items()},
        prior=prior.parameters(),
        replaced=replaced,
    )


@transaction.atomic
def match_opening_override(
    *, match_id: int, odds: dict[str, Decimal], user: AbstractBaseUser | AnonymousUser | None
) -> Match:
    """A trader's override of a match's opening prices before it has taken a bet: the score
    distribution becomes the one `odds` stand for, every market is priced again from it (the
    Asian handicap lines chosen again: no bet holds them yet), and the override is recorded.
    Refused once a bet is placed: the book's totals were struck at the old prices."""
    match = Match.objects.select_for_update().get(pk=match_id)
    if match.bet_sequence > 0:
        message = "The opening prices cannot change once the match has taken bets."
        raise MatchTransitionNotAllowed(message, status=match.status, errors={"opening_odds": [message]})
    replaced = {k: v for k, v in match.score_prior.items() if k != "matrix"}
    prior = prior_from_odds(odds, settings.ODDS_MARGIN_METHOD)
    Market.objects.filter(match=match).delete()
    match.odds_version += 1
    match.odds_updated_at = timezone.now()
    rows = match_markets_open(match, prior)
    price_override_record(match=match, odds=odds, prior=prior, replaced=replaced, user=user)
    events.odds_publish_on_commit(match, rows)
    return match
