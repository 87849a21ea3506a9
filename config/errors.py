"""The base of every application error: a rule refused the request and nothing was written.

Each app derives its own errors from `ApplicationError` (`betting.errors`, `accounts.errors`);
the API's one exception handler (`config.exceptions`) renders any of them from
`status_code`, `code`, the message and the extra fields, so no app needs a handler of its own.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class DependencyUnavailable(Exception):  # named like the outages it stands beside
    """A service the request needs (a payment provider, say) did not answer: the outage
    middleware (`config.middleware`) answers 503 with Retry-After, naming `dependency`."""

    def __init__(self, dependency: str, message: str = "") -> None:
        super().__init__(message or f"{dependency} is unavailable")
        self.dependency = dependency
