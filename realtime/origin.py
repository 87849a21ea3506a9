"""Origin check for WebSocket handshakes, with the semantics of Django's CSRF origin check.

Browsers always send `Origin` on a WebSocket handshake, and cross-site WebSocket hijacking
can only come from a browser, so a present Origin must be one of:

- the handshake's own origin: the scheme the client used (`ws` is `http`, `wss` is `https`;
  behind a TLS proxy, `https` when SECURE_PROXY_SSL_HEADER is set and the proxy says so),
  and the `Host` it asked for (X-Forwarded-Host with USE_X_FORWARDED_HOST), which must be
  in ALLOWED_HOSTS;
- or an origin listed in CSRF_TRUSTED_ORIGINS (`https://*.example.com` for subdomains).

Scheme, host and port all count: `http://example.com` may not open a socket of
`https://example.com`, nor `http://127.0.0.1:9000` one of `http://127.0.0.1:8000`. A
handshake without Origin comes from a non-browser client (a script, a test, a load
generator), which could forge the header anyway; it is let through. Every refusal is
logged with its reason.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int | None


def origin_parse(value: str) -> Origin | None:
    """(scheme, lower-cased host, port with the scheme's default filled in), or None."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname or scheme not in DEFAULT_PORTS:
        return None
    return Origin(scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[scheme])


def header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_scheme(scope: dict[str, Any]) -> str:
    """`https` or `http`, as Django's `request.is_secure()` decides it."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        # HTTP_X_FORWARDED_PROTO -> x-forwarded-proto
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        value = header(scope, name)
        if value is not None:
            return "https" if value.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def request_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the handshake itself was made to, if its host is an allowed one."""
    host = None
    if settings.USE_X_FORWARDED_HOST:
        host = header(scope, b"x-forwarded-host")
    host = host or header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return origin_parse(f"{request_scheme(scope)}://{host}")


def trusted(origin: Origin) -> bool:
    """Listed in CSRF_TRUSTED_ORIGINS, exactly or under a `*.` subdomain pattern."""
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        pattern = origin_parse(entry)
        if pattern is None or (pattern.scheme, pattern.port) != (origin.scheme, origin.port):
            continue
        if pattern.host.startswith("*."):
            if is_same_domain(origin.host, pattern.host[1:]):  # ".example.com": it and its subdomains
                return True
        elif pattern.host == origin.host:
            return True
    return False


def origin_refusal(scope: dict[str, Any]) -> str | None:
    """Why the handshake's Origin is refused, or None when it may proceed."""
    raw = header(scope, b"origin")
    if raw is None:
        return None
    origin = origin_parse(raw)
    if origin is None:
        return "not a valid http(s) origin"
    own = request_origin(scope)
    if origin == own or trusted(origin):
        return None
    if own is None:
        return "the handshake's Host is not in ALLOWED_HOSTS"
    if origin.host != own.host:
        return f"host {origin.host!r} is not this site's ({own.host!r}) nor in CSRF_TRUSTED_ORIGINS"
    return f"scheme or port differ from this site's {own.scheme}://{own.host}:{own.port}"


class AllowedHostsOrNoOriginValidator:
    """ASGI middleware: refuse (HTTP 403) a handshake whose Origin is not this site's."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        refusal = origin_refusal(scope)
        if refusal is None:
            return await self.application(scope, receive, send)
        logger.warning("Refused WebSocket origin %s: %s", header(scope, b"origin"), refusal)
        return await WebsocketDenier()(scope, receive, send)
