"""Domain errors of the match feed: the API's exception handler renders each one."""

from config.errors import ApplicationError


class FeedError(ApplicationError):
    status_code = 400
    code = "feed_error"


class FeedMatchNotFound(FeedError):
    """The event names a match that does not exist: a bad field."""

    status_code = 400
    code = "invalid"


class FeedEventConflict(FeedError):
    """The event id or the sequence number is already taken by a different event: the log
    keeps the first, and the provider has a bug to look at."""

    status_code = 409
    code = "event_conflict"


class MatchFedByAnotherProvider(FeedError):
    """A match is fed by one provider: the sequence numbers of two would not interleave."""

    status_code = 409
    code = "match_fed_by_another_provider"
