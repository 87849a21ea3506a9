"""The account's own rules on what its wallet may take: a bet's stake, a deposit. Hooks that the
app owning the rules fills in from its `AppConfig.ready()` (safer gambling: its breaks and
limits, `safergambling/apps.py`).

Why hooks and not an import: safer gambling reads betting's wallets and ledger (a loss limit
counts the ledger) and payments' deposits, so it stands above both (docs/architecture.md). Bet
placement and the deposit service still ask it, under the wallet lock that serialises the
account's bets and deposits, whether the money may move: through these hooks, which point down.

Nothing registered is an error, not a pass: a book that forgot its safer-gambling checks must
not take bets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from betting.models import Wallet


class BetColumns(Protocol):
    def __call__(self, *, user_id_column: str, now: datetime) -> tuple[str, Sequence[Any]]:
        """Select-list SQL over a row whose account's user id is in `user_id_column`, and its
        parameters, read in the statement that locks the wallet (`wallet_lock(columns=...)`):
        what spares the bet check the reads that would find no rule (see
        `safergambling.selectors.bet_rules_columns`)."""
        ...


class BetAllowedCheck(Protocol):
    def __call__(self, *, wallet: Wallet, stake: Decimal, now: datetime | None = None) -> None:
        """Raise the refusal (an ApplicationError) when the account may not stake `stake`."""
        ...


class DepositAllowedCheck(Protocol):
    def __call__(self, *, wallet: Wallet, amount: Decimal, now: datetime | None = None) -> None:
        """Raise the refusal (an ApplicationError) when the account may not deposit `amount`."""
        ...


@dataclass(frozen=True)
class WalletRules:
    bet_columns: BetColumns
    bet_allowed_check: BetAllowedCheck
    deposit_allowed_check: DepositAllowedCheck


registered: WalletRules | None = None


def wallet_rules_register(rules: WalletRules) -> None:
    global registered
    registered = rules


def wallet_rules() -> WalletRules:
    if registered is None:
        raise ImproperlyConfigured("No wallet rules are registered: is `safergambling` in INSTALLED_APPS?")
    return registered
