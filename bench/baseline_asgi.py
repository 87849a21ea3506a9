"""The seeds' delivery design, for `bench_delivery` to measure against: `daphne bench.baseline_asgi:application`.

Every socket is a consumer with its own channel, added to one group; the publisher's
`group_send` writes the message into every member's channel and each consumer encodes it to
JSON and sends it. BASELINE_DESIGN picks the layer: `baseline` is
`channels_redis.core.RedisChannelLayer` (the seeds' settings), `pubsub` is
`channels_redis.pubsub.RedisPubSubChannelLayer`. Nothing else (no auth, no database), so the
measurement is of the delivery path alone.
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

BACKENDS = {
    "baseline": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def baseline_config(design: str) -> dict[str, Any]:
    return {
        "BACKEND": BACKENDS[design],
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": os.environ["BASELINE_PREFIX"]},
    }


def baseline_layer(design: str) -> Any:
    from django.utils.module_loading import import_string

    config = baseline_config(design)
    return import_string(config["BACKEND"])(**config["CONFIG"])


settings.CHANNEL_LAYERS = {"default": baseline_config(os.environ.get("BASELINE_DESIGN", "baseline"))}


class SeedOddsConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(BASELINE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(BASELINE_GROUP, self.channel_name)

    async def odds_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": "odds_update", "data": event["data"]}))


application = URLRouter([path("ws/odds/", SeedOddsConsumer.as_asgi())])
