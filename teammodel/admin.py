from django.contrib import admin

from teammodel.models import RatingFit, Result, Team, TeamRating


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "league")
    list_filter = ("league",)
    search_fields = ("name",)


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin[Result]):
    list_display = ("date", "league", "home", "home_goals", "away_goals", "away", "season")
    list_filter = ("league", "season")
    search_fields = ("home__name", "away__name")
    date_hierarchy = "date"
    raw_id_fields = ("home", "away")


class TeamRatingInline(admin.TabularInline[TeamRating, RatingFit]):
    model = TeamRating
    readonly_fields = ("team", "attack", "defence")
    extra = 0
    can_delete = False


@admin.register(RatingFit)
class RatingFitAdmin(admin.ModelAdmin[RatingFit]):
    list_display = ("league", "as_of", "fitted_at", "matches", "home_advantage", "rho", "fit_seconds")
    list_filter = ("league",)
    readonly_fields = [f.name for f in RatingFit._meta.fields]
    inlines = [TeamRatingInline]
