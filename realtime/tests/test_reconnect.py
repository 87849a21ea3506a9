"""The rules every Redis loop of a web process follows (`realtime.reconnect`), without Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from realtime.reconnect import Backoff, keep_trying


def test_backoff_doubles_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(initial=0.2, maximum=1.0)
    assert [backoff.next() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.2


async def test_a_loop_retries_after_errors(monkeypatch) -> None:
    monkeypatch.setattr("realtime.reconnect.INITIAL_BACKOFF_SECONDS", 0.001)
    attempts = 0
    done = asyncio.Event()

    async def attempt(backoff: Backoff) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("Redis is down")
        done.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(keep_trying("Test", attempt))
    await asyncio.wait_for(done.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert attempts == 3


@pytest.mark.parametrize("swallowed_as", ["return", "error"])
async def test_a_loop_stops_when_cancelled_even_if_the_client_swallowed_it(swallowed_as: str) -> None:
    """redis-py can turn a cancellation in the middle of a command into an error, or return as if
    nothing happened: the loop must stop all the same, not try again."""
    started = asyncio.Event()

    async def attempt(backoff: Backoff) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if swallowed_as == "error":
                raise ConnectionError("Connection closed by server") from None

    task = asyncio.create_task(keep_trying("Test", attempt))
    await started.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert task in done and task.cancelled()


@pytest.mark.redis
@pytest.mark.parametrize("retries", [0, 3])
async def test_a_subscription_redis_py_brings_back_by_itself_counts_as_lost(monkeypatch, retries: int) -> None:
    """With a retry policy redis-py reconnects and resubscribes inside `get_message` and returns
    as if nothing happened (without one it does the same, then raises). Either way what was
    published meanwhile is lost: the loop must run `on_subscribed(after_loss=True)`."""
    from django.conf import settings
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    from realtime import connections
    from realtime.reconnect import subscribe_forever
    from tests.waiting import kill_connections

    monkeypatch.setattr("realtime.reconnect.INITIAL_BACKOFF_SECONDS", 0.01)
    made = connections.async_client
    monkeypatch.setattr(
        connections, "async_client", lambda url, **options: made(url, retry=Retry(NoBackoff(), retries), **options)
    )
    name = f"reconnect-test-{uuid.uuid4().hex[:8]}"
    subscriptions: list[bool] = []
    changed = asyncio.Event()

    async def on_subscribed(pubsub: object, after_loss: bool) -> None:
        subscriptions.append(after_loss)
        changed.set()

    async def on_messages(batch: list) -> None:
        pass

    task = asyncio.create_task(
        subscribe_forever(
            "Test",
            url=settings.REDIS_URL,
            channels=lambda: [name],
            on_subscribed=on_subscribed,
            on_messages=on_messages,
            on_lost=lambda: None,
            client_name=name,
        )
    )
    try:
        await asyncio.wait_for(changed.wait(), 5)
        changed.clear()
        assert await kill_connections(settings.REDIS_URL, name) == 1
        await asyncio.wait_for(changed.wait(), 10)
        assert subscriptions == [False, True]
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=5)
