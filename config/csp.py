"""The Content-Security-Policy header (django-csp), plus the one source a static policy cannot
name: the WebSocket origin of the host the page was served from.

CSP Level 3 lets `'self'` match `ws:`/`wss:` of the page's own host, but browsers that predate
it do not, and the pages' sockets (`/ws/...`, same host and port) must connect everywhere. The
host is the request's own (`get_host()`, already checked against ALLOWED_HOSTS), so a page can
connect to where it came from and nowhere else.
"""

from __future__ import annotations

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase


def websocket_origins(request: HttpRequest) -> list[str]:
    """`wss://host`, and `ws://host` for a page served over plain HTTP (an HTTPS page may not
    open a `ws:` socket anyway: mixed content)."""
    host = request.get_host()
    return [f"wss://{host}"] if request.is_secure() else [f"ws://{host}", f"wss://{host}"]


class SameHostWebSocketCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update: dict[str, Any] = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), *websocket_origins(request)]
        parts.update = update
        return parts
