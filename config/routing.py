"""Every WebSocket endpoint of the project, from the apps that own them (`config.asgi` serves them)."""

from betting.routing import websocket_urlpatterns as betting_websockets
from blog.routing import websocket_urlpatterns as blog_websockets

websocket_urlpatterns = [*betting_websockets, *blog_websockets]
