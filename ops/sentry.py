"""Error reports to Sentry, switched on by SENTRY_DSN (config/settings/base.py). Personal data
(e-mails, cookies) stays out of reports: sentry-sdk sends none by default."""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from ops.request_id import request_id_get


def _tag_request_id(event: Any, hint: Any) -> Any:
    """The report names the request id, so it leads to the request's log lines."""
    request_id = request_id_get()
    if request_id is not None:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, **options: Any) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        before_send=_tag_request_id,
        integrations=[DjangoIntegration(), CeleryIntegration(), LoggingIntegration()],
        **options,
    )
