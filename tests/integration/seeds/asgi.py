"""The project's ASGI application plus the seeds' code at test routes:
`/ws/seed/blog/` (the seed's `BlogConsumer`, unchanged) and `GET /seed/cotes/<match>/` (a view
that publishes with the seed's `group_send`). `daphne tests.integration.seeds.asgi:application`."""

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from django.conf import settings

from config.asgi import application as project
from tests.integration.seeds.consumers import BlogConsumer

settings.ROOT_URLCONF = "tests.integration.seeds.urls"
seed_blog = BlogConsumer.as_asgi()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    if scope["type"] == "websocket" and scope["path"] == "/ws/seed/blog/":
        return await seed_blog(scope, receive, send)
    return await project(scope, receive, send)
