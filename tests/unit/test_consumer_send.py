"""A frame for a client that vanished a moment ago is dropped, not an unhandled exception.

Found by the WebSocket fuzzer: a client that resets its connection right after a bad frame made
Daphne's protocol raise `Disconnected` inside the consumer's answer."""

from unittest.mock import AsyncMock

from autobahn.exception import Disconnected

from betting.consumers import OddsConsumer


async def test_sending_to_a_client_gone_meanwhile_stops_the_writes() -> None:
    consumer = OddsConsumer()
    consumer.base_send = AsyncMock(side_effect=Disconnected("Attempt to send on a closed protocol"))
    await consumer.send_error("bad_frame", "A frame is a JSON object with an `action`.")
    assert consumer.closing
    await consumer.send_error("bad_frame", "again")
    assert consumer.base_send.await_count == 1
