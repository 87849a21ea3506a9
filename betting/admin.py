from typing import Any

from django.contrib import admin

from betting.models import Bet, Match, MatchBook, OddsVersion


class MatchBookInline(admin.StackedInline[MatchBook, Match]):
    """The running totals, for reading only: the recompute owns them, and a hand edit would
    make every later price wrong without a trace."""

    model = MatchBook
    can_delete = False
    readonly_fields = ["stake_home", "stake_draw", "stake_away", "payout_home", "payout_draw", "payout_away"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin[Match]):
    list_display = [
        "id",
        "home_team",
        "away_team",
        "kickoff",
        "status",
        "odds_home",
        "odds_draw",
        "odds_away",
        "odds_version",
        "bet_sequence",
        "bets_counted",
    ]
    list_filter = ["status"]
    readonly_fields = ["odds_home", "odds_draw", "odds_away", "markets", "odds_version", "bet_sequence", "bets_counted"]
    inlines = [MatchBookInline]


@admin.register(OddsVersion)
class OddsVersionAdmin(admin.ModelAdmin[OddsVersion]):
    list_display = ["match", "version", "home", "draw", "away", "bets_counted", "computed_at", "pipeline_latency_ms"]
    list_filter = ["match"]


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin[Bet]):
    list_display = ["id", "user", "match", "selection", "stake", "odds", "odds_version", "status", "created_at"]
    list_filter = ["status", "selection"]
    readonly_fields = [f.name for f in Bet._meta.fields]
