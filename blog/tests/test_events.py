"""Blog events: published to the real Redis channel after commit only, in the documented shape."""

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.test import Client

from blog import services
from blog import streams as blog_streams
from blog.models import Post, PostStatus
from blog.tests.conftest import client_for
from blog.tests.factories import PostFactory
from realtime.publisher import get_layer
from realtime.wire import decode_fast

# Real commits (`on_commit` callbacks run only when the outermost transaction commits), and
# a real Redis channel.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

FRAME_KEYS = {"type", "event", "id", "title", "status", "author", "ts"}
EVENT_TYPES = {"post_created", "post_updated", "post_deleted"}


class BlogChannel:
    """A subscriber to the channel layer's fast-path channel, as a web process's hub is."""

    def __init__(self) -> None:
        self.client = redis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(get_layer().names.fast)
        # Wait for Redis to confirm the subscription, or a fast publish could be missed.
        deadline = time.monotonic() + 5
        while True:
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "subscribe":
                break
            assert time.monotonic() < deadline, "could not subscribe to the blog channel"

    def receive(self, expected: int, timeout: float = 3.0) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(routing, decoded frame) of each blog envelope, checking the raw frame is JSON; routing
        names the `user` when the event reaches only that author's drafts group."""
        received: list[tuple[dict[str, Any], dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while len(received) < expected and time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "message":
                groups, _, _, frame_text, _ = decode_fast(message["data"])
                if groups == [blog_streams.BLOG_FEED]:
                    received.append(({}, json.loads(frame_text)))
                elif groups[0].startswith("blog_drafts_"):
                    received.append(({"user": int(groups[0].rsplit("_", 1)[1])}, json.loads(frame_text)))
        return received

    def assert_silent(self, wait: float = 0.4) -> None:
        assert self.receive(expected=1, timeout=wait) == []

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


@pytest.fixture
def channel() -> Iterator[BlogChannel]:
    listener = BlogChannel()
    yield listener
    listener.close()


def assert_frame_schema(frame: dict[str, Any]) -> None:
    assert set(frame) - {"reason"} == FRAME_KEYS
    assert frame["type"] in EVENT_TYPES
    assert frame["event"] == frame["type"]
    assert isinstance(frame["id"], int)
    assert isinstance(frame["title"], str)
    assert frame["status"] in PostStatus.values
    assert isinstance(frame["author"], int)
    ts = datetime.fromisoformat(frame["ts"])
    assert ts.tzinfo is not None, "timestamps carry their time zone"
    if "reason" in frame:
        assert frame["reason"] == "unpublished"


def test_create_update_delete_of_a_published_post_reach_every_socket(channel, author):
    post = services.post_create(author=author, title="Kick-off", status=PostStatus.PUBLISHED)
    services.post_update(post=post, title="Kick-off delayed")
    services.post_delete(post=post)

    received = channel.receive(expected=3)
    for header, frame in received:
        assert "user" not in header, "public events are routed to every blog socket"
        assert_frame_schema(frame)
    assert [(f["type"], f["id"], f["title"], f["status"]) for _, f in received] == [
        ("post_created", post.pk, "Kick-off", "published"),
        ("post_updated", post.pk, "Kick-off delayed", "published"),
        ("post_deleted", post.pk, "Kick-off delayed", "published"),
    ]
    assert all(frame["author"] == author.pk for _, frame in received)


def test_a_drafts_events_are_routed_to_its_author_only(channel, author):
    draft = services.post_create(author=author, title="Secret transfer")
    services.post_update(post=draft, body="Still secret")
    services.post_delete(post=draft)

    received = channel.receive(expected=3)
    assert [frame["type"] for _, frame in received] == ["post_created", "post_updated", "post_deleted"]
    for header, frame in received:
        assert header["user"] == author.pk
        assert frame["status"] == "draft"
        assert_frame_schema(frame)


def test_publishing_a_draft_tells_everyone(channel, author):
    draft = services.post_create(author=author, title="Coming soon")
    channel.receive(expected=1)
    services.post_update(post=draft, status=PostStatus.PUBLISHED)
    [(header, frame)] = channel.receive(expected=1)
    assert "user" not in header
    assert (frame["type"], frame["status"]) == ("post_updated", "published")


def test_unpublishing_withdraws_the_post_from_readers_and_updates_the_author(channel, author):
    post = PostFactory(author=author, title="Public title", status=PostStatus.PUBLISHED)
    services.post_update(post=post, title="Draft title", status=PostStatus.DRAFT)

    received = channel.receive(expected=2)
    (public_header, withdrawn), (author_header, updated) = received
    assert "user" not in public_header
    assert withdrawn["type"] == "post_deleted"
    assert withdrawn["reason"] == "unpublished"
    assert withdrawn["title"] == "Public title", "readers never see the draft's new title"
    assert author_header["user"] == author.pk
    assert (updated["type"], updated["title"], updated["status"]) == ("post_updated", "Draft title", "draft")
    for _, frame in received:
        assert_frame_schema(frame)


def test_nothing_is_published_before_the_transaction_commits(channel, author):
    with transaction.atomic():
        post = services.post_create(author=author, title="Pending", status=PostStatus.PUBLISHED)
        channel.assert_silent()
    [(_, frame)] = channel.receive(expected=1)
    assert (frame["type"], frame["id"]) == ("post_created", post.pk)


def test_a_rolled_back_transaction_publishes_nothing(channel, author):
    published = PostFactory(author=author, status=PostStatus.PUBLISHED)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.post_create(author=author, title="Never happened", status=PostStatus.PUBLISHED)
        services.post_update(post=published, title="Never renamed")
        services.post_delete(post=published)
        raise Abort

    channel.assert_silent()
    assert Post.objects.filter(pk=published.pk, title=published.title).exists()
    assert not Post.objects.filter(title="Never happened").exists()


def test_a_refused_write_publishes_nothing(channel, author, other_user):
    post = PostFactory(author=author, status=PostStatus.PUBLISHED)
    assert client_for(other_user).delete(f"/api/posts/{post.pk}/").status_code == 403
    assert client_for(author).post("/api/posts/", {"title": ""}, format="json").status_code == 400
    channel.assert_silent()


def test_the_api_announces_each_write_once(channel, author):
    client = client_for(author)
    created = client.post("/api/posts/", {"title": "Live", "status": "published"}, format="json").json()
    client.patch(f"/api/posts/{created['id']}/", {"title": "Live, updated"}, format="json")
    client.delete(f"/api/posts/{created['id']}/")

    received = channel.receive(expected=4, timeout=1.5)
    assert [(frame["type"], frame["title"]) for _, frame in received] == [
        ("post_created", "Live"),
        ("post_updated", "Live, updated"),
        ("post_deleted", "Live, updated"),
    ]


def test_post_update_refuses_fields_it_does_not_own(author):
    post = PostFactory(author=author)
    with pytest.raises(TypeError):
        services.post_update(post=post, author=author)


def test_admin_writes_are_announced_like_api_writes(channel, author, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    admin = Client()
    admin.force_login(staff_user)
    added = admin.post(
        "/admin/blog/post/add/",
        {"title": "Needs moderation", "body": "", "status": "published", "author": author.pk},
    )
    assert added.status_code == 302, added.content
    post = Post.objects.get(title="Needs moderation")
    assert post.author_id == author.pk

    changed = admin.post(
        f"/admin/blog/post/{post.pk}/change/",
        {"title": "Moderated", "body": post.body, "status": "published"},
    )
    assert changed.status_code == 302, changed.content
    deleted = admin.post(f"/admin/blog/post/{post.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302

    received = channel.receive(expected=3)
    assert [(frame["type"], frame["title"]) for _, frame in received] == [
        ("post_created", "Needs moderation"),
        ("post_updated", "Moderated"),
        ("post_deleted", "Moderated"),
    ]
    assert not Post.objects.filter(pk=post.pk).exists()
