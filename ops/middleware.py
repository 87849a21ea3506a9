"""Request id and request metrics, around every HTTP request (sync under gunicorn, async
under Daphne)."""

import logging
import time
from contextvars import Token
from typing import cast

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from config.middleware import SyncAndAsyncMiddleware
from ops import metrics
from ops.request_id import HEADER, request_id_accept, request_id_reset, request_id_set

logger = logging.getLogger("ops.requests")


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    """Outermost: everything the request does, logs and enqueues carries its id."""

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        started, token = self._start(request)
        try:
            # Any response: whitenoise's static files are streaming responses, not HttpResponse.
            response = cast(HttpResponseBase, self.get_response(request))
            return self._finish(request, response, started)
        finally:
            request_id_reset(token)

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        started, token = self._start(request)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
            return self._finish(request, response, started)
        finally:
            request_id_reset(token)

    def _start(self, request: HttpRequest) -> tuple[float, Token[str | None]]:
        request.request_id = request_id_accept(request.headers.get(HEADER))  # type: ignore[attr-defined]
        return time.perf_counter(), request_id_set(request.request_id)  # type: ignore[attr-defined]

    def _finish(self, request: HttpRequest, response: HttpResponseBase, started: float) -> HttpResponseBase:
        seconds = time.perf_counter() - started
        response[HEADER] = request.request_id  # type: ignore[attr-defined]
        metrics.http_request_observe(request.method or "", response.status_code, seconds)
        # The path only: a query string may hold a token.
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": seconds * 1000,
            },
        )
        return response
