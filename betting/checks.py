"""System checks: refuse to start with odds-engine settings the engine would reject at the
first bet (`manage.py check`, and every process's start-up, run them)."""

from typing import Any

from django.core.checks import CheckMessage, Error, register

from betting.pricing import engine_params


@register()
def odds_engine_settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        engine_params()
    except (ValueError, TypeError, ArithmeticError) as error:
        return [
            Error(
                f"Invalid odds-engine settings: {error}",
                hint="See the ODDS_* variables in docs/configuration.md, section 'Variables'.",
                id="betting.E001",
            )
        ]
    return []
