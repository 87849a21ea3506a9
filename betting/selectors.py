"""Reads of matches and odds, shared by the API, the pages and the WebSocket snapshots."""

from collections.abc import Iterable

from django.db.models import QuerySet

from betting.models import Bet, Match, MatchStatus

LISTED_STATUSES = (MatchStatus.OPEN, MatchStatus.SUSPENDED, MatchStatus.SCHEDULED)


def match_list_listed() -> QuerySet[Match]:
    """The matches a bettor can see on the front page: not yet finished."""
    return Match.objects.filter(status__in=LISTED_STATUSES)


def match_list_by_ids(match_ids: Iterable[int]) -> list[Match]:
    return list(Match.objects.filter(pk__in=list(match_ids)))


def bet_list_for_user(*, user_id: int) -> QuerySet[Bet]:
    return Bet.objects.filter(user_id=user_id).select_related("match")
