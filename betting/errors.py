"""Domain errors of betting. The API's exception handler maps each to an HTTP reply."""

from typing import Any


class BettingError(Exception):
    """A rule of the book refused the request; nothing was written."""

    status_code = 400
    code = "betting_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class MatchNotFound(BettingError):
    """The bet names a match that does not exist: a bad field, reported as such."""

    status_code = 400
    code = "invalid"


class MatchNotOpen(BettingError):
    status_code = 409
    code = "match_not_open"


class OddsChanged(BettingError):
    """The quoted price is no longer offered and the bettor did not accept the change."""

    status_code = 409
    code = "odds_changed"
