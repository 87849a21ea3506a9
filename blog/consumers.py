"""`/ws/blog/`: the blog feed (drafts only to their author) and the live reader count (`presence`)."""

from __future__ import annotations

from blog import streams as blog_streams
from realtime.consumers import StreamConsumer


class BlogConsumer(StreamConsumer):
    presence_stream = "blog"
    wants_presence = True

    async def open(self) -> None:
        await self.accept()
        await self.join_hub()
        await self.join(blog_streams.BLOG_FEED)
        if self.user_id is not None:
            await self.join(blog_streams.blog_drafts_group(self.user_id))  # the user's own drafts
        # The `presence` frame follows from the hub as soon as the new count is summed.
