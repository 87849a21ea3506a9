from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from betting.api.serializers import MATCH_CREATE_STATUSES, MatchCreateInputSerializer
from betting.errors import BettingError
from betting.matches import (
    MATCH_SERVICE_FIELDS,
    match_create,
    match_create_check,
    match_opening_override,
    match_prior,
    match_save_edited_fields,
)
from betting.models import (
    Bet,
    BetLeg,
    LedgerEntry,
    Market,
    Match,
    MatchStatus,
    OddsVersion,
    PriceOverride,
    Selection,
    Wallet,
)
from betting.permissions import SETTLE_MATCH, TRADE_MATCH, transition_permission
from betting.settlement import match_transition

OPENING_FIELDS = ("opening_home", "opening_draw", "opening_away")


def transition_action(status: str, label: str = "") -> Callable[..., None]:
    """An admin action moving each selected match through the lifecycle service, so the
    admin publishes and settles exactly as the staff API does, under the same permission."""

    def action(modeladmin: admin.ModelAdmin[Match], request: HttpRequest, queryset: QuerySet[Match]) -> None:
        if not request.user.has_perm(transition_permission(status)):
            raise PermissionDenied  # the admin hides the action too; this is the rule itself
        changed = 0
        for match_id in queryset.values_list("pk", flat=True):
            try:
                match_transition(match_id=match_id, status=status)
                changed += 1
            except BettingError as exc:
                modeladmin.message_user(request, f"Match {match_id}: {exc.message}", level=messages.ERROR)
        if changed:
            modeladmin.message_user(request, f"{changed} match(es): {label or status}.", level=messages.SUCCESS)

    action.__name__ = f"make_{status}"
    # `trade` or `settle`: the admin offers the action only to who has the permission.
    needs = transition_permission(status).removeprefix("betting.").removesuffix("_match")
    return admin.action(description=label or f"Mark as {status}", permissions=[needs])(action)


# Status and result change only through the actions, which publish and settle; prices and
# counters only through the services.
MATCH_READONLY_FIELDS = list(MATCH_SERVICE_FIELDS)


class MatchCreateForm(forms.ModelForm[Match]):
    """The admin's "add match": the API's input rules (teams, prices on the ladder, the
    statuses a match may start in) and the service's kick-off rule, shown as form errors;
    `MatchAdmin.save_model` then creates through `match_create`, as the API does. The opening
    odds are optional: left empty, the team model prices the match (an error if it cannot)."""

    status = forms.ChoiceField(choices=MATCH_CREATE_STATUSES, initial=MatchStatus.SCHEDULED)

    class Meta:
        model = Match
        fields = ["home_team", "away_team", "kickoff", "status", *OPENING_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in OPENING_FIELDS:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned  # a field is missing or malformed: its own error says so
        kickoff = cleaned["kickoff"]
        data: dict[str, Any] = {
            "home_team": cleaned["home_team"],
            "away_team": cleaned["away_team"],
            "kickoff": kickoff.isoformat(),
            "status": cleaned["status"],
        }
        typed = {selection: cleaned.get(f"opening_{selection}") for selection in Selection.values}
        if any(price is not None for price in typed.values()):
            data["opening_odds"] = {s: "" if p is None else str(p) for s, p in typed.items()}
        serializer = MatchCreateInputSerializer(data=data)
        if not serializer.is_valid():
            for name, messages_ in serializer.errors.items():
                self._add_input_errors(name, messages_)
            return cleaned
        cleaned["opening_odds"] = serializer.validated_data.get("opening_odds")
        if cleaned["opening_odds"] is None:
            try:  # the team model's prices, or the same 400 the API gives, shown on the form
                match_prior(home_team=cleaned["home_team"], away_team=cleaned["away_team"], opening=None)
            except BettingError as exc:
                self.add_error(None, exc.message)
                return cleaned
        try:
            match_create_check(kickoff=kickoff, status=cleaned["status"])
        except BettingError as exc:
            self.add_error("kickoff", exc.message)
        return cleaned

    def _add_input_errors(self, name: str, messages_: Any) -> None:
        if name == "opening_odds" and isinstance(messages_, dict):
            for selection, selection_messages in messages_.items():
                self.add_error(f"opening_{selection}", [str(m) for m in selection_messages])
        else:
            self.add_error(name if name in self.fields else None, [str(m) for m in messages_])


class ReadOnlyInline(admin.TabularInline[Any, Match]):
    can_delete = False
    extra = 0

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # never saved back with the match: a stale copy would undo a recompute


class MarketInline(ReadOnlyInline):
    """Every market's status, prices, maximum stakes and running totals, for reading only:
    the recompute owns them, and a hand edit would make every later price wrong."""

    model = Market
    fields = readonly_fields = ("key", "status", "prices", "max_stakes", "stakes", "payouts")


class PriceOverrideInline(ReadOnlyInline):
    """Who overrode the opening prices, when, with which odds, and the distribution replaced."""

    model = PriceOverride
    fields = readonly_fields = ("created_at", "created_by", "odds", "prior", "replaced")


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin[Match]):
    list_display = [
        "id",
        "home_team",
        "away_team",
        "kickoff",
        *(f for f in MATCH_READONLY_FIELDS if f not in ("score_prior", "asian_handicap_lines", "odds_updated_at")),
    ]
    list_filter = ["status"]
    readonly_fields = MATCH_READONLY_FIELDS
    inlines = [MarketInline, PriceOverrideInline]

    def get_form(self, request: HttpRequest, obj: Match | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = MatchCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Match | None = None) -> Any:
        if obj is None:
            return MatchCreateForm.Meta.fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Match | None = None) -> Any:
        # On "add" nothing is shown read-only: the service fills in prices, markets and counters.
        # The opening odds may be overridden until the match takes its first bet.
        if obj is None:
            return []
        if obj.bet_sequence == 0:
            return [name for name in self.readonly_fields if name not in OPENING_FIELDS]
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Creating a match is trading: the same permission as `POST /api/matches/`.
        return super().has_add_permission(request) and request.user.has_perm(TRADE_MATCH)

    def get_inlines(self, request: HttpRequest, obj: Match | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        # A new match has no markets yet (the service prices them): no inline on "add".
        return [] if obj is None else list(self.inlines)

    actions = [
        transition_action(MatchStatus.OPEN, label="Open for betting"),
        transition_action(MatchStatus.SUSPENDED, label="Suspend betting"),
        transition_action(MatchStatus.CLOSED, label="Close betting"),
        transition_action(MatchStatus.VOID, label="Void (refund every stake)"),
    ]

    def has_trade_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(TRADE_MATCH)

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SETTLE_MATCH)

    def save_model(self, request: HttpRequest, obj: Match, form: Any, change: bool) -> None:
        if change:
            match_save_edited_fields(match=obj, fields=form.changed_data)
            if set(OPENING_FIELDS) & set(form.changed_data):
                odds = {s: form.cleaned_data[f"opening_{s}"] for s in Selection.values}
                match_opening_override(match_id=obj.pk, odds=odds, user=request.user)
            return
        # Created by the service, as the API creates it: kick-off rule, markets, first odds
        # version, announced on commit. `obj` becomes that row, for the admin's log and redirect.
        created = match_create(
            home_team=obj.home_team,
            away_team=obj.away_team,
            kickoff=obj.kickoff,
            opening=form.cleaned_data.get("opening_odds"),
            status=form.cleaned_data["status"],
            created_by=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Money and odds history are only written by the services: the admin looks, it never edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OddsVersion)
class OddsVersionAdmin(ReadOnlyAdmin):
    """The published history: what bettors were offered, version by version."""

    list_display = ["match", "version", "home", "draw", "away", "bets_counted", "computed_at", "pipeline_latency_ms"]
    list_filter = ["match"]


class BetLegInline(admin.TabularInline[BetLeg, Bet]):
    """An accumulator's legs, read-only like the bet."""

    model = BetLeg
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in BetLeg._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Bet | None = None) -> bool:
        return False


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin[Bet]):
    list_display = [
        "id",
        "user",
        "kind",
        "match",
        "market",
        "selection",
        "stake",
        "odds",
        "odds_version",
        "status",
        "payout",
        "created_at",
    ]
    list_filter = ["status", "kind", "selection"]
    readonly_fields = [f.name for f in Bet._meta.fields]
    inlines = [BetLegInline]


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "balance", "held", "updated_at"]
    search_fields = ["user__username"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "wallet", "kind", "amount", "balance_after", "bet", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["wallet__user__username"]
