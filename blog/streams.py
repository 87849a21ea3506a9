"""The blog stream: its channel-layer groups (`realtime.streams` for how streams work).

| group | who joins | message type | frame | conflation key |
|---|---|---|---|---|
| `blog_feed`, `blog_drafts_<author>` | `/ws/blog/` sockets (drafts: the author's) | `blog_event` | `data` | none |

A published post's events reach `blog_feed`; a draft's, only its author's `blog_drafts_<id>`.
"""

from __future__ import annotations

from typing import Any

from realtime.groups import fast_group
from realtime.streams import GroupMessages, stream_declare

BLOG = "blog"
BLOG_FEED = "blog_feed"
BLOG_EVENT = "blog_event"


def blog_drafts_group(user_id: int) -> str:
    return f"blog_drafts_{user_id}"


def blog_group_messages(frame: dict[str, Any], routing: dict[str, Any]) -> GroupMessages:
    only_user = routing.get("user")  # a draft: its author only
    group = BLOG_FEED if only_user is None else blog_drafts_group(int(only_user))
    return [([group], {"type": BLOG_EVENT, "data": frame})]


fast_group(r"blog_feed|blog_drafts_\d+")
stream_declare(BLOG, blog_group_messages)
