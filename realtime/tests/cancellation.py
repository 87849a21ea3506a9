"""A long-lived Redis loop cancelled at any moment of its start-up must stop (realtime/reconnect.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def tasks_left_after_cancelling(start: Callable[[], object], runs: int) -> list[list[str]]:
    """Start the loops (`start()`, on a fresh event loop), cancel every task 0 to 20 ms later
    (in steps of 0.5 ms, `runs` times in all), and list the tasks still running 6 s after each
    cancellation: a loop that swallowed its cancellation, and would keep its event loop from closing."""

    async def start_then_cancel(delay: float) -> list[str]:
        start()
        await asyncio.sleep(delay)
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=6)
        return [task.get_coro().__qualname__ for task in pending]

    left = []
    for step in range(runs):
        loop = asyncio.new_event_loop()
        try:
            left.append(loop.run_until_complete(start_then_cancel(step % 40 * 0.0005)))
        finally:
            loop.close()
    return [pending for pending in left if pending]
