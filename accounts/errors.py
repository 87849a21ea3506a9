"""Domain errors of accounts, rendered by the API's one exception handler like betting's."""

from betting.errors import BettingError


class EmailTaken(BettingError):
    status_code = 400
    code = "invalid"


class PasswordRejected(BettingError):
    status_code = 400
    code = "invalid"


class PasswordResetLinkInvalid(BettingError):
    status_code = 400
    code = "reset_link_invalid"
