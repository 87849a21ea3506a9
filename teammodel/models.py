"""Teams, their imported results, and the ratings fitted on them."""

from django.db import models


class Team(models.Model):
    """A team of one league, named as the results files spell it."""

    league = models.CharField(max_length=64)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["league", "name"]
        constraints = [models.UniqueConstraint(fields=["league", "name"], name="teammodel_team_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.league})"


class Result(models.Model):
    """A played match: one per date and pair of teams, so importing a file twice adds nothing."""

    league = models.CharField(max_length=64)
    season = models.CharField(max_length=16)
    date = models.DateField()
    home = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="home_results")
    away = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="away_results")
    home_goals = models.PositiveSmallIntegerField()
    away_goals = models.PositiveSmallIntegerField()
    # Missing in the source for a few matches (awarded without being played).
    home_goals_half_time = models.PositiveSmallIntegerField(null=True, blank=True)
    away_goals_half_time = models.PositiveSmallIntegerField(null=True, blank=True)
    home_shots_on_target = models.PositiveSmallIntegerField(null=True, blank=True)
    away_shots_on_target = models.PositiveSmallIntegerField(null=True, blank=True)
    home_red_cards = models.PositiveSmallIntegerField(null=True, blank=True)
    away_red_cards = models.PositiveSmallIntegerField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["date", "home", "away"], name="teammodel_result_unique_fixture"),
        ]
        indexes = [models.Index(fields=["league", "date"], name="teammodel_result_league_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.home.name} {self.home_goals}-{self.away_goals} {self.away.name}"


class RatingFit(models.Model):
    """One fit of a league's ratings: the parameters, the data window and what it cost."""

    league = models.CharField(max_length=64)
    fitted_at = models.DateTimeField(auto_now_add=True)
    # The fit saw the results dated in [window_start, as_of).
    as_of = models.DateField()
    window_start = models.DateField()
    season = models.CharField(max_length=16)
    matches = models.PositiveIntegerField()
    fit_seconds = models.FloatField(help_text="CPU seconds")
    intercept = models.FloatField()
    home_advantage = models.FloatField()
    rho = models.FloatField()
    # What a team the fit never saw gets (a promoted side: see docs/team-model.md).
    newcomer_attack = models.FloatField()
    newcomer_defence = models.FloatField()
    # The hyper-parameters it ran with (teammodel.forecast.ModelConfig).
    config = models.JSONField(default=dict)

    class Meta:
        ordering = ["-fitted_at", "-id"]
        indexes = [models.Index(fields=["league", "-fitted_at"], name="teammodel_fit_league_latest")]

    def __str__(self) -> str:
        return f"{self.league} ratings as of {self.as_of}"


class TeamRating(models.Model):
    """A team's attack and defence in one fit (log scale, centred on the league's average)."""

    fit = models.ForeignKey(RatingFit, on_delete=models.CASCADE, related_name="team_ratings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="ratings")
    attack = models.FloatField()
    defence = models.FloatField()

    class Meta:
        ordering = ["fit", "-attack"]
        constraints = [models.UniqueConstraint(fields=["fit", "team"], name="teammodel_rating_unique_team")]

    def __str__(self) -> str:
        return f"{self.team.name}: attack {self.attack:+.3f}, defence {self.defence:+.3f}"
