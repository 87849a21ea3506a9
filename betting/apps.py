from django.apps import AppConfig


class BettingConfig(AppConfig):
    name = "betting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from betting import checks  # noqa: F401  (registers the system checks)
