from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from betting.errors import BettingError
from betting.matches import MATCH_SERVICE_FIELDS, match_save_edited_fields
from betting.models import Bet, LedgerEntry, Match, MatchBook, MatchStatus, OddsVersion, Selection, Wallet
from betting.permissions import SETTLE_MATCH, TRADE_MATCH, transition_permission
from betting.settlement import match_transition


def transition_action(status: str, result: str = "", label: str = "") -> Callable[..., None]:
    """An admin action moving each selected match through the lifecycle service, so the
    admin publishes and settles exactly as the staff API does, under the same permission."""

    def action(modeladmin: admin.ModelAdmin[Match], request: HttpRequest, queryset: QuerySet[Match]) -> None:
        if not request.user.has_perm(transition_permission(status)):
            raise PermissionDenied  # the admin hides the action too; this is the rule itself
        changed = 0
        for match_id in queryset.values_list("pk", flat=True):
            try:
                match_transition(match_id=match_id, status=status, result=result)
                changed += 1
            except BettingError as exc:
                modeladmin.message_user(request, f"Match {match_id}: {exc.message}", level=messages.ERROR)
        if changed:
            modeladmin.message_user(request, f"{changed} match(es): {label or status}.", level=messages.SUCCESS)

    action.__name__ = f"make_{status}_{result}".rstrip("_")
    # `trade` or `settle`: the admin offers the action only to who has the permission.
    needs = transition_permission(status).removeprefix("betting.").removesuffix("_match")
    return admin.action(description=label or f"Mark as {status}", permissions=[needs])(action)


# Status and result change only through the actions, which publish and settle; prices and
# counters only through the services.
MATCH_READONLY_FIELDS = list(MATCH_SERVICE_FIELDS)


class MatchBookInline(admin.StackedInline[MatchBook, Match]):
    """The running totals, for reading only: the recompute owns them, and a hand edit would
    make every later price wrong without a trace."""

    model = MatchBook
    can_delete = False
    readonly_fields = ["stake_home", "stake_draw", "stake_away", "payout_home", "payout_draw", "payout_away"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # never saved back with the match: a stale copy would undo a recompute


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin[Match]):
    list_display = [
        "id",
        "home_team",
        "away_team",
        "kickoff",
        *(f for f in MATCH_READONLY_FIELDS if f not in ("markets", "odds_updated_at")),
    ]
    list_filter = ["status"]
    readonly_fields = MATCH_READONLY_FIELDS
    inlines = [MatchBookInline]

    def get_inlines(self, request: HttpRequest, obj: Match | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        # A new match has no book yet (its first recompute makes one): no inline on "add".
        return [] if obj is None else list(self.inlines)

    actions = [
        transition_action(MatchStatus.OPEN, label="Open for betting"),
        transition_action(MatchStatus.SUSPENDED, label="Suspend betting"),
        transition_action(MatchStatus.CLOSED, label="Close betting"),
        *(
            transition_action(MatchStatus.SETTLED, result=value, label=f"Settle with result: {label}")
            for value, label in Selection.choices
        ),
        transition_action(MatchStatus.VOID, label="Void (refund every stake)"),
    ]

    def has_trade_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(TRADE_MATCH)

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SETTLE_MATCH)

    def save_model(self, request: HttpRequest, obj: Match, form: Any, change: bool) -> None:
        if change:
            match_save_edited_fields(match=obj, fields=form.changed_data)
            return
        # A new match's current prices start at its opening prices.
        obj.odds_home, obj.odds_draw, obj.odds_away = obj.opening_home, obj.opening_draw, obj.opening_away
        super().save_model(request, obj, form, change)
        OddsVersion.objects.get_or_create(
            match=obj,
            version=obj.odds_version,
            defaults={"home": obj.odds_home, "draw": obj.odds_draw, "away": obj.odds_away},
        )


@admin.register(OddsVersion)
class OddsVersionAdmin(admin.ModelAdmin[OddsVersion]):
    list_display = ["match", "version", "home", "draw", "away", "bets_counted", "computed_at", "pipeline_latency_ms"]
    list_filter = ["match"]


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin[Bet]):
    list_display = [
        "id",
        "user",
        "match",
        "selection",
        "stake",
        "odds",
        "odds_version",
        "status",
        "payout",
        "created_at",
    ]
    list_filter = ["status", "selection"]
    readonly_fields = [f.name for f in Bet._meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Money is only moved by the services: the admin looks, it never edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "balance", "held", "updated_at"]
    search_fields = ["user__username"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "wallet", "kind", "amount", "balance_after", "bet", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["wallet__user__username"]
