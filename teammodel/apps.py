from django.apps import AppConfig


class TeamModelConfig(AppConfig):
    """Team ratings fitted on real results (Dixon–Coles), their score matrices and backtest."""

    name = "teammodel"
    verbose_name = "Team model"
    default_auto_field = "django.db.models.BigAutoField"
