"""Writes of the blog. Each runs in one transaction and announces itself after commit.

Who may write what is checked by the API's permission classes before a service is called;
the services take the post already loaded and trust that check.
"""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from blog import events
from blog.models import Post, PostStatus

EDITABLE_FIELDS = ("title", "body", "status")


@transaction.atomic
def post_create(*, author: AbstractBaseUser, title: str, body: str = "", status: str = PostStatus.DRAFT) -> Post:
    # By id: the user model may be swapped, and any user object gives its key the same way.
    post = Post(author_id=author.pk, title=title, body=body, status=status)
    post.full_clean()
    post.save()
    events.post_event_publish_on_commit(events.POST_CREATED, post)
    return post


@transaction.atomic
def post_update(*, post: Post, **changes: Any) -> Post:
    """Apply `changes` (any of title, body, status) and tell the sockets that may see the post.

    The row is locked and re-read, so two concurrent edits apply one after the other and
    the events carry the state each of them committed.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"post_update() cannot change {sorted(unknown)}")
    locked = Post.objects.select_for_update().get(pk=post.pk)
    was_published, last_public_title = locked.is_published, locked.title
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.full_clean()
    locked.save()

    if was_published and not locked.is_published:
        events.post_unpublished_publish_on_commit(
            post_id=locked.pk, last_public_title=last_public_title, author_id=locked.author_id
        )
    events.post_event_publish_on_commit(events.POST_UPDATED, locked)
    return locked


@transaction.atomic
def post_delete(*, post: Post) -> None:
    """Delete the post and announce it once, with the state it had when it was deleted."""
    locked = Post.objects.select_for_update().filter(pk=post.pk).first()
    if locked is None:
        return  # a concurrent delete won, and announced it
    post_id, title, status, author_id = locked.pk, locked.title, locked.status, locked.author_id
    locked.delete()
    events.post_deleted_publish_on_commit(post_id=post_id, title=title, status=status, author_id=author_id)
