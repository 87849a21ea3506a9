"""Refusals of the safer-gambling rules, rendered by the API's one exception handler.

A time-out or a self-exclusion forbids the act itself (403); a limit refuses this amount, now
(409, with how much is left)."""

from config.errors import ApplicationError


class SaferGamblingError(ApplicationError):
    """A safer-gambling rule refused the request; nothing was written."""


class SelfExcluded(SaferGamblingError):
    status_code = 403
    code = "self_excluded"


class OnBreak(SaferGamblingError):
    status_code = 403
    code = "on_break"


class DepositLimitReached(SaferGamblingError):
    status_code = 409
    code = "deposit_limit_reached"


class LossLimitReached(SaferGamblingError):
    status_code = 409
    code = "loss_limit_reached"


class StakeLimitExceeded(SaferGamblingError):
    status_code = 409
    code = "stake_limit"


class RestrictionNotLonger(SaferGamblingError):
    """A new break must end after the one in force: a break is never shortened."""

    status_code = 409
    code = "already_restricted"


class LimitInvalid(SaferGamblingError):
    status_code = 400
    code = "invalid"
