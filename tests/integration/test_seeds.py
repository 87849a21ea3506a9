"""The seeds' Channels code against the real processes: two Daphne web processes, a Celery
worker and Redis. The seeds' `group_send` calls run verbatim (`tests/integration/seeds/`) from
a Celery task, from `manage.py shell` and from a view, and the blog seed's `BlogConsumer` is
mounted, unchanged, at `/ws/seed/blog/`."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.integration.harness import Stack
from tests.waiting import subscribed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

APP = "tests.integration.seeds.asgi:application"


@pytest.fixture(scope="module")
def ports(stack: Stack) -> tuple[int, int]:
    stack.start_worker("--include", "tests.integration.seeds.tasks")
    return stack.start_web(application=APP)[1], stack.start_web(application=APP)[1]


async def frames_until(ws: websockets.ClientConnection, wanted, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if wanted(frame):
                return frame


async def ready(ws: websockets.ClientConnection, kind: str) -> None:
    """The socket is in its groups once the server has said something (snapshot, presence)."""
    await frames_until(ws, lambda f: f.get("type") in {kind})


async def test_the_blog_seeds_group_send_from_a_shell_reaches_every_blog_socket(stack: Stack, ports) -> None:
    first, second = ports
    async with (
        websockets.connect(f"ws://127.0.0.1:{first}/ws/blog/") as project_socket,
        websockets.connect(f"ws://127.0.0.1:{second}/ws/seed/blog/") as seed_socket,
    ):
        await ready(project_socket, "presence")
        # The seed's consumer sends nothing on connect: its group is joined once the handshake
        # is done; the fast-path channel is subscribed once both web processes' hubs are.
        await subscribed(stack.redis_url, f"{stack.env['REALTIME_PREFIX']}:fast", count=2)
        stack.manage(
            "shell",
            "-c",
            "from tests.integration.seeds import publish; publish.blog_post_created(41, 'Hello', 'published')",
        )
        expected = {"event": "post_created", "id": 41, "title": "Hello", "status": "published"}
        assert await frames_until(project_socket, lambda f: f.get("id") == 41) == expected
        assert await frames_until(seed_socket, lambda f: f.get("id") == 41) == expected


async def test_the_odds_seeds_group_send_from_a_task_and_a_view_reaches_cotes_sockets(stack: Stack, ports) -> None:
    first, second = ports
    match_id = httpx.get(f"http://127.0.0.1:{first}/api/matches/").json()["results"][0]["id"]
    async with (
        websockets.connect(f"ws://127.0.0.1:{first}/ws/cotes/{match_id}/") as one_match,
        websockets.connect(f"ws://127.0.0.1:{second}/ws/cotes/") as every_match,
    ):
        for ws in (one_match, every_match):
            await frames_until(ws, lambda f: f["type"] == "cotes_update")  # the snapshot
        data = {"match_id": match_id, "cote1": 1.9, "coteN": 3.3, "cote2": 4.2, "last_updated": "t", "paris_count": 7}
        stack.manage(
            "shell",
            "-c",
            f"from tests.integration.seeds.tasks import cotes_broadcast; cotes_broadcast.delay({match_id}, {data!r})",
        )
        for ws in (one_match, every_match):
            frame = await frames_until(ws, lambda f: f["data"].get("paris_count") == 7)
            assert frame == {"type": "cotes_update", "data": data}
        sent = httpx.get(f"http://127.0.0.1:{second}/seed/cotes/{match_id}/", timeout=10).json()["sent"]
        for ws in (one_match, every_match):
            frame = await frames_until(ws, lambda f: f["data"].get("cote1") == 1.5)
            assert frame == {"type": "cotes_update", "data": sent}
