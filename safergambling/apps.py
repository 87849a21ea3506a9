from django.apps import AppConfig


class SaferGamblingConfig(AppConfig):
    name = "safergambling"
    verbose_name = "Safer gambling"
