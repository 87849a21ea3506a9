"""ASGI entry point: HTTP goes to Django, WebSockets through origin check, auth and routing."""

import os

from django.core.asgi import get_asgi_application

# A server started without DJANGO_SETTINGS_MODULE runs production settings (which refuse
# default keys), never the local ones with DEBUG on: `make run` and the tests set it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_application = get_asgi_application()  # before importing anything that touches models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from realtime.auth import SessionOrTokenAuthMiddlewareStack  # noqa: E402
from realtime.collector import collector_tune_for_sockets  # noqa: E402
from realtime.origin import AllowedHostsOrNoOriginValidator  # noqa: E402
from realtime.transport import DaphneTransportMiddleware, under_daphne  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOrNoOriginValidator(
            # Outside the auth stack, whose session wrapper hides Daphne's `send`.
            DaphneTransportMiddleware(
                SessionOrTokenAuthMiddlewareStack(
                    # Any other path is refused at the handshake (403), not an unhandled
                    # "No route found" error in the server's log.
                    URLRouter([*websocket_urlpatterns, re_path(r"", WebsocketDenier.as_asgi())])
                )
            )
        ),
    }
)

if under_daphne():
    # Thousands of long-lived socket objects make CPython's full collections long pauses in
    # delivery: freeze the loaded application and collect less often (realtime/collector.py).
    collector_tune_for_sockets()
