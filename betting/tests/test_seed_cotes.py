"""The seed's own WebsocketCommunicator test, adapted only as far as its match must exist
(and marked: the in-process hub it connects through subscribes to the real Redis)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from betting.tests.factories import MatchFactory
from config.asgi import application


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_cotes_websocket():
    await database_sync_to_async(MatchFactory)(id=123)
    communicator = WebsocketCommunicator(application, "/ws/cotes/123/")
    connected, _ = await communicator.connect()
    assert connected

    # Recevoir les cotes initiales
    response = await communicator.receive_json_from()
    assert response["type"] == "cotes_update"

    await communicator.disconnect()
