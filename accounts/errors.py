"""Domain errors of accounts, rendered by the API's one exception handler like every app's."""

from config.errors import ApplicationError


class AccountsError(ApplicationError):
    """A rule of sign-up, sign-in or password reset refused the request; nothing was written."""


class EmailTaken(AccountsError):
    status_code = 400
    code = "invalid"


class PasswordRejected(AccountsError):
    status_code = 400
    code = "invalid"


class PasswordResetLinkInvalid(AccountsError):
    status_code = 400
    code = "reset_link_invalid"
