from django.apps import AppConfig


class BettingConfig(AppConfig):
    name = "betting"
    default_auto_field = "django.db.models.BigAutoField"
