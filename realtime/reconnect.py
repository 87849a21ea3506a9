"""The loops that keep a Redis connection for a web process: reconnect with backoff, stop when cancelled.

Each web process holds a few long-lived Redis connections: the hub's pub/sub subscription
(`realtime.hub`), the credentials' revocation notes (`realtime.credentials`) and the presence
writes (`realtime.presence`). Each runs in a task of the process's event loop, and each
follows the same rules, kept here once:

- an error (Redis down, restarted, a connection killed) is logged and the loop tries again
  after a backoff that doubles from 0.2 s to 5 s, and resets once it got through;
- a subscription redis-py brought back by itself counts as lost too. redis-py reconnects and
  resubscribes a pub/sub connection on its own (inside `get_message` under a retry policy,
  or when a command is sent on a dropped connection) and may then carry on as if nothing
  happened: what was published meanwhile is gone, yet nobody would resync. The loop watches
  the connection's reconnections and starts over, so `on_subscribed(after_loss=True)` runs;
- a cancellation (the loop shutting down, a test ending) always stops the loop. redis-py can
  turn a cancellation that lands in the middle of a command into an error, or swallow it and
  return (the task stays `cancelling()`): the loop checks for that after every command, or a
  task would outlive its event loop and keep that loop's shutdown waiting for ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn

from redis.exceptions import ConnectionError as RedisConnectionError

from realtime import connections

logger = logging.getLogger(__name__)

INITIAL_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 5.0  # a quiet subscription still checks for cancellation this often


def raise_if_cancelling() -> None:
    """Stop here if the running task is being cancelled (redis-py may have swallowed it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Backoff:
    def __init__(self, initial: float = INITIAL_BACKOFF_SECONDS, maximum: float = MAX_BACKOFF_SECONDS) -> None:
        self.initial = initial
        self.maximum = maximum
        self.delay = initial

    def reset(self) -> None:
        self.delay = self.initial

    def next(self) -> float:
        """The delay before the next attempt; the one after is twice as long, up to the maximum."""
        delay = self.delay
        self.delay = min(self.delay * 2, self.maximum)
        return delay


async def keep_trying(what: str, attempt: Callable[[Backoff], Awaitable[None]]) -> NoReturn:
    """Run `attempt` for ever: again at once when it returns, again after the backoff when it
    raises. `attempt` calls `backoff.reset()` once it got through to Redis."""
    backoff = Backoff()
    while True:
        try:
            await attempt(backoff)
            raise_if_cancelling()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise_if_cancelling()
            delay = backoff.next()
            logger.warning("%s lost Redis (%s); retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)


class ReconnectedBehindOurBack(RedisConnectionError):
    """redis-py re-established the subscription itself: messages may have been missed."""


class ConnectionWatch:
    """Notes every connection of one pub/sub connection after the one it was registered on."""

    def __init__(self) -> None:
        self.reconnected = False

    def connected(self, connection: Any) -> None:  # a method: redis-py keeps a weak reference
        self.reconnected = True


async def subscribe_forever(
    what: str,
    *,
    url: str | None,
    channels: Callable[[], Iterable[str]],
    on_subscribed: Callable[[Any, bool], Awaitable[None]],
    on_messages: Callable[[list[dict[str, Any]]], Awaitable[None]],
    on_lost: Callable[[], None],
    max_batch: int = 1,
    client_name: str | None = None,
) -> NoReturn:
    """Keep one pub/sub connection subscribed to `channels()` (read again at every reconnect).

    `on_subscribed(pubsub, after_loss)` runs once subscribed: `after_loss` is True when an
    earlier connection was lost, so messages may have been missed meanwhile. `on_messages`
    gets what arrived, up to `max_batch` messages already waiting read at once. `on_lost` runs
    whenever the connection ends. `client_name` names the connection in Redis (CLIENT LIST).
    """
    lost_before = False

    async def attempt(backoff: Backoff) -> None:
        nonlocal lost_before
        client = connections.async_client(url, health_check_interval=10, client_name=client_name)
        watch = ConnectionWatch()
        connection: Any = None
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(*channels())
                raise_if_cancelling()
                connection = pubsub.connection
                connection.register_connect_callback(watch.connected)
                backoff.reset()
                after_loss, lost_before = lost_before, True
                await on_subscribed(pubsub, after_loss)
                while True:
                    message = await pubsub.get_message(timeout=READ_TIMEOUT_SECONDS)
                    raise_if_cancelling()
                    if message is not None:
                        batch = [message]
                        while len(batch) < max_batch:
                            more = await pubsub.get_message(timeout=0)
                            if more is None:
                                break
                            batch.append(more)
                        await on_messages(batch)  # read from a live connection, old or new: real
                    if watch.reconnected:
                        raise ReconnectedBehindOurBack("redis-py reconnected the subscription by itself")
        finally:
            on_lost()
            if connection is not None:
                connection.deregister_connect_callback(watch.connected)
            await client.aclose()

    await keep_trying(what, attempt)
