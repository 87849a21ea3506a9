"""System checks: refuse to start with odds-engine settings the engine would reject at the
first bet (`manage.py check`, and every process's start-up, run them)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from betting.engine.margin import MARGIN_METHODS
from betting.pricing import book_params


@register()
def odds_engine_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        book_params()
        if settings.ODDS_MARGIN_METHOD not in MARGIN_METHODS:
            raise ValueError(f"ODDS_MARGIN_METHOD is one of {MARGIN_METHODS}, not {settings.ODDS_MARGIN_METHOD!r}.")
    except (ValueError, TypeError, ArithmeticError) as error:
        return [
            Error(
                f"Invalid odds-engine settings: {error}",
                hint="See the ODDS_* variables in docs/configuration.md, section 'Variables'.",
                id="betting.E001",
            )
        ]
    return []
