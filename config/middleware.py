"""A dependency that is down is a 503 the client can retry, never a 500.

Redis (cache, throttles, broker) and the database each raise their own errors when they are
unreachable. A request that hits one gets `503 Service Unavailable` with `Retry-After` and
the API's usual error body, naming the dependency but not the exception. Nothing is
half-written: every write is one transaction, rolled back by the exception before it gets
here; what runs after a commit (publishing, enqueueing) fails open by itself
(`config.after_commit`).

A database error raised by COMMIT itself leaves the outcome unknown: the server may have
committed before the connection broke. Retrying is safe only for a request that carries an
`Idempotency-Key` (required on `POST /api/bets/`): its retry replays the first answer if the
write happened and makes it once if not. The 503 of such a request says to retry with the
same key.
"""

import logging
from collections.abc import Awaitable, Callable

import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from kombu.exceptions import OperationalError as BrokerError

from config.errors import DependencyUnavailable

logger = logging.getLogger(__name__)


def failing_dependency(exc: BaseException) -> str | None:
    """`redis`, `database`, `broker` (or what a `DependencyUnavailable` names) when `exc`
    says that dependency is unreachable."""
    if isinstance(exc, DependencyUnavailable):
        return exc.dependency
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return "redis"
    if isinstance(exc, BrokerError):
        return "broker"
    # A constraint violation is a bug or a race to report, not an outage.
    if isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError):
        return "database"
    return None


def dependency_unavailable_response(dependency: str, *, idempotency_key: bool = False) -> JsonResponse:
    detail = f"A service this request needs ({dependency}) is unavailable: retry shortly."
    if idempotency_key:
        detail += " Send the same Idempotency-Key again: the request takes effect at most once."
    response = JsonResponse(
        {"code": "service_unavailable", "detail": detail, "dependency": dependency},
        status=503,
    )
    response["Retry-After"] = str(settings.DEPENDENCY_RETRY_AFTER_SECONDS)
    return response


class DependencyUnavailableMiddleware:
    """Turns an outage raised by a view (DRF's included: it re-raises what it does not map)
    into the 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        dependency = failing_dependency(exception)
        if dependency is None:
            return None
        logger.warning("%s %s: %s unavailable (%s)", request.method, request.path, dependency, exception)
        return dependency_unavailable_response(dependency, idempotency_key="Idempotency-Key" in request.headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: the same 503 for an outage raised outside a view (a middleware reading
    the session, say), else Django's plain 500 page. Django calls it while handling the
    exception, so the exception is the one being handled."""
    import sys

    from django.views.defaults import server_error as default_server_error

    dependency = failing_dependency(sys.exc_info()[1] or Exception())
    if dependency is not None:
        return dependency_unavailable_response(dependency)
    return default_server_error(request)


class SyncAndAsyncMiddleware:
    """A middleware that runs natively under both servers: gunicorn calls `handle`, Daphne
    awaits `ahandle`, so no thread hop is added under ASGI. Subclasses write both."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        return self.ahandle(request) if self.is_async else self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError
