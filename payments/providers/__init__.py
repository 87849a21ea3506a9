"""The configured payment providers (settings.PAYMENT_PROVIDERS), by name."""

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from payments.errors import UnknownProvider
from payments.providers.base import PaymentProvider


def provider_names() -> list[str]:
    return list(settings.PAYMENT_PROVIDERS)


def provider_get(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (the default one if None). Unknown: a 400 naming `provider`."""
    name = name or settings.PAYMENT_DEFAULT_PROVIDER
    config: dict[str, Any] | None = settings.PAYMENT_PROVIDERS.get(name)
    if config is None:
        message = f"No payment provider is called {name!r}: one of {', '.join(provider_names())}."
        raise UnknownProvider(message, errors={"provider": [message]})
    return import_string(config["BACKEND"])(name, **config.get("OPTIONS", {}))
