"""The seeds' delivery design, for `bench_delivery` to measure against: `daphne bench.baseline_asgi:application`.

Every socket is a consumer with its own channel in `channels_redis.core.RedisChannelLayer`,
added to one group; the publisher's `group_send` writes the message into every member's
channel and each consumer encodes it to JSON and sends it. Nothing else (no auth, no
database), so the measurement is of the delivery path alone.
"""

import json
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from bench.delivery_publisher import BASELINE_GROUP  # noqa: E402

settings.CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": os.environ["BASELINE_PREFIX"]},
    }
}


class SeedOddsConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(BASELINE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(BASELINE_GROUP, self.channel_name)

    async def odds_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": "odds_update", "data": event["data"]}))


application = URLRouter([path("ws/odds/", SeedOddsConsumer.as_asgi())])
