"""Real-time events of the blog: the frames `/ws/blog/` sockets receive, built in one place.

Every frame is `{"type", "event", "id", "title", "status", "author", "ts"}`. `type` is what
the project's client dispatches on; `event` carries the same name for the seed's demo page,
which reads `event`. A draft's events reach only its author (the hub delivers a frame whose
routing header names a user to that user's sockets only).
"""

from typing import Any, Final, Literal

from django.utils import timezone

from blog.models import Post, PostStatus
from blog.streams import BLOG
from realtime.publisher import publish_on_commit

POST_CREATED: Final = "post_created"
POST_UPDATED: Final = "post_updated"
POST_DELETED: Final = "post_deleted"

PostEventType = Literal["post_created", "post_updated", "post_deleted"]

# Why a reader's list loses a post that still exists: its author took it back to draft.
REASON_UNPUBLISHED = "unpublished"


def post_frame(
    event_type: PostEventType,
    *,
    post_id: int,
    title: str,
    status: str,
    author_id: int,
    reason: str | None = None,
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": event_type,
        "event": event_type,
        "id": post_id,
        "title": title,
        "status": status,
        "author": author_id,
        "ts": timezone.now().isoformat(),
    }
    if reason is not None:
        frame["reason"] = reason
    return frame


def _routing_for(status: str, author_id: int) -> dict[str, Any]:
    """Published posts go to every blog socket; drafts only to their author's."""
    return {} if status == PostStatus.PUBLISHED else {"user": author_id}


def post_event_publish_on_commit(event_type: PostEventType, post: Post) -> None:
    frame = post_frame(event_type, post_id=post.pk, title=post.title, status=post.status, author_id=post.author_id)
    publish_on_commit(BLOG, frame, **_routing_for(post.status, post.author_id))


def post_deleted_publish_on_commit(*, post_id: int, title: str, status: str, author_id: int) -> None:
    """After a delete the row is gone: the caller keeps what the frame needs."""
    frame = post_frame(POST_DELETED, post_id=post_id, title=title, status=status, author_id=author_id)
    publish_on_commit(BLOG, frame, **_routing_for(status, author_id))


def post_unpublished_publish_on_commit(*, post_id: int, last_public_title: str, author_id: int) -> None:
    """A published post went back to draft: readers must drop it from their lists.

    Its `post_updated` is a draft's event and reaches only the author, so every socket is
    told the post is gone, as a `post_deleted` with `reason: "unpublished"`. It carries the
    title readers last saw, never the draft's new one.
    """
    frame = post_frame(
        POST_DELETED,
        post_id=post_id,
        title=last_public_title,
        status=PostStatus.DRAFT,
        author_id=author_id,
        reason=REASON_UNPUBLISHED,
    )
    publish_on_commit(BLOG, frame)
