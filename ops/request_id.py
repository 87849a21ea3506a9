"""One request id, from the HTTP request to the Celery task it enqueues and the publish that
task makes, so one bet can be followed end to end in the logs.

- `RequestIdMiddleware` takes a sane incoming `X-Request-ID` (nginx passes its own or a load
  balancer's) or makes one, keeps it in a context variable for the request, and echoes it in
  the response.
- Celery: the id travels in the task message's headers (`before_task_publish`) and is set
  again around the task in the worker (`task_prerun` / `task_postrun`); whatever the task
  publishes or logs carries it.
- `RequestIdFilter` puts it on every log record as `request_id` ("-" outside any request).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

from celery import signals

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# Long enough to be unique, short and plain enough to be safe in a log line or a header.
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
_task_tokens: dict[str, Token[str | None]] = {}


def request_id_get() -> str | None:
    return _current.get()


def request_id_set(value: str | None) -> Token[str | None]:
    return _current.set(value)


def request_id_reset(token: Token[str | None]) -> None:
    _current.reset(token)


def request_id_accept(incoming: str | None) -> str:
    """The incoming id when it is sane, else a fresh one."""
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


@signals.before_task_publish.connect
def _task_publish_carries_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    current = _current.get()
    if current is not None and headers is not None:
        headers.setdefault(TASK_HEADER, current)


@signals.task_prerun.connect
def _task_takes_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    incoming = getattr(getattr(task, "request", None), TASK_HEADER, None)
    if task_id is not None and isinstance(incoming, str) and _SANE.match(incoming):
        _task_tokens[task_id] = _current.set(incoming)


@signals.task_postrun.connect
def _task_drops_request_id(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        _current.reset(token)
