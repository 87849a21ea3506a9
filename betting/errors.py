"""Domain errors of betting. The API's exception handler maps each to an HTTP reply."""

from config.errors import ApplicationError


class BettingError(ApplicationError):
    """A rule of the book refused the request; nothing was written."""

    status_code = 400
    code = "betting_error"


class MatchNotFound(BettingError):
    """The bet names a match that does not exist: a bad field, reported as such."""

    status_code = 400
    code = "invalid"


class MatchNotOpen(BettingError):
    status_code = 409
    code = "match_not_open"


class MarketSuspended(BettingError):
    """Betting on the match is suspended for a moment (a goal, a red card, a penalty, or a
    trader's decision): `reason` says which."""

    status_code = 409
    code = "market_suspended"


class MatchStarted(BettingError):
    """The match has kicked off: betting is over, whatever its status says.

    The status is moved to closed by a periodic sweep; this is the clock's own answer, so a
    late sweep (or none) never lets a bet in at pre-match prices."""

    status_code = 409
    code = "match_started"


class OddsChanged(BettingError):
    """The quoted price is no longer offered and the bettor did not accept the change."""

    status_code = 409
    code = "odds_changed"


class OddsRequired(BettingError):
    """No quoted price, and the bettor did not accept any price: nothing to check against."""

    status_code = 400
    code = "invalid"


class StakeOutOfRange(BettingError):
    """The stake is below the minimum or above the maximum of the book: a bad field."""

    status_code = 400
    code = "invalid"


class InsufficientFunds(BettingError):
    """The wallet holds less than the stake."""

    status_code = 409
    code = "insufficient_funds"


class MatchTransitionNotAllowed(BettingError):
    """The lifecycle does not lead from the match's status to the one asked for."""

    status_code = 409
    code = "transition_not_allowed"


class ResettlementUncollectable(BettingError):
    """A corrected result takes back more than a bettor's wallet holds now: the correction
    waits, whole, until staff cover it (docs/in-play.md)."""

    status_code = 409
    code = "resettlement_uncollectable"


class IdempotencyKeyRequired(BettingError):
    """A bet without an `Idempotency-Key`: a retry after an unknown outcome (no answer, or a
    503 raised while committing) could not be told from a new bet, and would place it twice."""

    status_code = 428
    code = "idempotency_key_required"


class IdempotencyKeyReused(BettingError):
    """The Idempotency-Key was already used by this user for a different request."""

    status_code = 422
    code = "idempotency_key_reused"


class NoOpeningPrices(BettingError):
    """The team model has no ratings for the fixture and no opening odds were typed."""

    status_code = 400
    code = "invalid"


class MarketClosed(BettingError):
    """The market takes no more bets (closed, settled or void), or the match has no such market."""

    status_code = 409
    code = "market_closed"


class SelectionClosed(BettingError):
    """The book gives the selection no price now (its probability is off the ladder)."""

    status_code = 409
    code = "selection_closed"


class SelectionDecided(SelectionClosed):
    """In play, the score has already decided the selection (over 0.5 once a goal is in):
    `outcome` says how it ends."""

    code = "selection_decided"


class StakeTooHigh(BettingError):
    """The stake exceeds what the market's liability limit allows on the selection:
    `max_stake` says how much it does."""

    status_code = 409
    code = "stake_too_high"


class AccumulatorSameMatch(BettingError):
    """Two legs of an accumulator on one match: their outcomes are correlated (a home win and
    over 2.5 goals go together), so the product of their prices would misprice the bet."""

    status_code = 400
    code = "accumulator_same_match"


class AccumulatorLegCount(BettingError):
    """An accumulator needs 2 to ACCUMULATOR_MAX_LEGS legs."""

    status_code = 400
    code = "invalid"


class AccumulatorInPlay(BettingError):
    """A leg on a match in play: in-play bets wait out the bet delay, which takes singles only."""

    status_code = 409
    code = "accumulator_in_play"


class CashoutUnavailable(BettingError):
    """The bet cannot be cashed out now: `reason` says why (`bet_not_open`, `leg_lost`,
    `market_closed`, `not_priced`)."""

    status_code = 409
    code = "cashout_unavailable"


class CashoutPending(BettingError):
    """Another acceptance of this bet waits out the bet delay in play: its decision comes first."""

    status_code = 409
    code = "cashout_pending"


class CashoutRefused(BettingError):
    """The acceptance went through the bet delay and was refused (`reason`: `market_suspended`,
    `market_closed`, `cashout_value_changed`, `timed_out`, `bet_not_open`, ...): asked again,
    the same quote gives the same refusal."""

    status_code = 409
    code = "cashout_refused"


class CashoutQuoteExpired(BettingError):
    """The quote's validity ran out before it was accepted: ask for a new one."""

    status_code = 409
    code = "cashout_quote_expired"


class CashoutQuoteNotFound(BettingError):
    """No such quote for this bet of this bettor."""

    status_code = 404
    code = "not_found"
