from django.apps import AppConfig


class InplayConfig(AppConfig):
    name = "inplay"
    verbose_name = "In play"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inplay import schema  # noqa: F401  (the feed token's OpenAPI security scheme)
