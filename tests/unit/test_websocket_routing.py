"""A WebSocket handshake on a path no route matches is refused, not an unhandled error."""

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)  # the auth middleware may read the session


@pytest.mark.parametrize("path", ["/ws/nowhere/", "/ws/odds/abc/", "/ws/cotes/\x00../x"])
async def test_an_unknown_websocket_path_is_refused_at_the_handshake(path: str, settings) -> None:
    # Routing only: every consumer, the denier included, asks the layer for a channel name, and
    # an in-memory layer keeps the hub (and its Redis subscription) out of this unit test.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()
