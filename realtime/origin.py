"""Origin check for WebSocket handshakes.

Browsers always send `Origin` on a WebSocket handshake, and cross-site WebSocket hijacking
can only come from a browser, so a present Origin must name a host in ALLOWED_HOSTS. A
handshake without Origin comes from a non-browser client (a script, a test, a load
generator), which could forge the header anyway; it is let through. Every refusal is logged
with its reason.
"""

import logging
from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.http.request import validate_host

logger = logging.getLogger(__name__)


class AllowedHostsOrNoOriginValidator(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        hostname = parsed_origin.hostname or ""
        if validate_host(hostname, settings.ALLOWED_HOSTS):
            return True
        logger.warning(
            "Refused WebSocket origin %s: host %r is not in ALLOWED_HOSTS",
            parsed_origin.geturl(),
            hostname,
        )
        return False
