"""ASGI entry point: HTTP goes to Django, WebSockets through origin check, auth and routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_application = get_asgi_application()  # before importing anything that touches models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.auth import SessionOrTokenAuthMiddlewareStack  # noqa: E402
from realtime.origin import AllowedHostsOrNoOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.transport import DaphneTransportMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOrNoOriginValidator(
            # Outside the auth stack, whose session wrapper hides Daphne's `send`.
            DaphneTransportMiddleware(SessionOrTokenAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
