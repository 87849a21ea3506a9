"""Who may trade and settle: Django permissions, checked alike by the API and the admin.

Being staff only opens the admin; what a person may do to a match is the permission. The
`traders` group (created by a data migration) holds both.
"""

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from betting.models import MatchStatus

TRADERS_GROUP = "traders"
TRADE_MATCH = "betting.trade_match"
SETTLE_MATCH = "betting.settle_match"

# The permission each lifecycle move needs: settling and voiding move money.
TRANSITION_PERMISSIONS: dict[str, str] = {
    MatchStatus.OPEN: TRADE_MATCH,
    MatchStatus.SUSPENDED: TRADE_MATCH,
    MatchStatus.CLOSED: TRADE_MATCH,
    MatchStatus.SETTLED: SETTLE_MATCH,
    MatchStatus.VOID: SETTLE_MATCH,
}


def transition_permission(status: str) -> str:
    return TRANSITION_PERMISSIONS[status]


class CanTradeOrReadOnly(permissions.BasePermission):
    """Anyone reads; creating a match needs `trade_match`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or request.user.has_perm(TRADE_MATCH)


class CanMakeTransition(permissions.BasePermission):
    """The permission of the view's `target_status` (see TRANSITION_PERMISSIONS)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.has_perm(transition_permission(view.target_status))
