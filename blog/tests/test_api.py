"""The posts API: who may read and write what, input errors, pagination, search and filters."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from blog.models import Post, PostStatus
from blog.tests.conftest import client_for
from blog.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/posts/"


def detail_url(post: Post) -> str:
    return f"/api/posts/{post.pk}/"


@pytest.fixture
def callers(author, other_user, staff_user):
    return {"anonymous": None, "author": author, "other": other_user, "staff": staff_user}


# --- Reading --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status", "expected"),
    [
        ("anonymous", PostStatus.PUBLISHED, 200),
        ("other", PostStatus.PUBLISHED, 200),
        ("author", PostStatus.PUBLISHED, 200),
        ("staff", PostStatus.PUBLISHED, 200),
        ("anonymous", PostStatus.DRAFT, 404),
        ("other", PostStatus.DRAFT, 404),
        ("author", PostStatus.DRAFT, 200),
        ("staff", PostStatus.DRAFT, 200),
    ],
)
def test_retrieve_shows_published_to_everyone_and_drafts_to_their_author(callers, author, caller, status, expected):
    post = PostFactory(author=author, status=status)
    reply = client_for(callers[caller]).get(detail_url(post))
    assert reply.status_code == expected, reply.content
    if expected == 200:
        assert reply.json() == {
            "id": post.pk,
            "title": post.title,
            "body": post.body,
            "status": status,
            "author": author.pk,
            "created_at": reply.json()["created_at"],
            "updated_at": reply.json()["updated_at"],
        }


def test_list_holds_published_posts_and_the_callers_own_drafts(author, other_user):
    published = PostFactory(author=other_user, status=PostStatus.PUBLISHED)
    own_draft = PostFactory(author=author, status=PostStatus.DRAFT)
    PostFactory(author=other_user, status=PostStatus.DRAFT)

    anonymous_ids = {p["id"] for p in client_for(None).get(LIST_URL).json()["results"]}
    author_ids = {p["id"] for p in client_for(author).get(LIST_URL).json()["results"]}

    assert anonymous_ids == {published.pk}
    assert author_ids == {published.pk, own_draft.pk}


def test_list_is_newest_first_and_paginated(author):
    posts = [PostFactory(author=author) for _ in range(25)]
    first = client_for(None).get(LIST_URL).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["results"][0]["id"] == posts[-1].pk
    assert first["previous"] is None
    assert first["next"].endswith("?page=2")

    second = client_for(None).get(LIST_URL, {"page": 2}).json()
    assert [p["id"] for p in second["results"]] == [p.pk for p in reversed(posts[:5])]
    assert second["next"] is None

    small = client_for(None).get(LIST_URL, {"page_size": 3}).json()
    assert len(small["results"]) == 3


def test_a_page_past_the_end_is_a_404_in_words(author):
    PostFactory(author=author)
    reply = client_for(None).get(LIST_URL, {"page": 9})
    assert reply.status_code == 404
    assert reply.json()["code"] == "not_found"
    assert "Invalid page" in reply.json()["detail"]


def test_search_matches_titles_case_insensitively(author):
    derby = PostFactory(author=author, title="North London derby preview")
    PostFactory(author=author, title="Transfer news", body="derby in the body does not count")
    reply = client_for(None).get(LIST_URL, {"search": "DERBY"})
    assert [p["id"] for p in reply.json()["results"]] == [derby.pk]


def test_status_filter_gives_the_callers_drafts_only(author, other_user):
    own_draft = PostFactory(author=author, status=PostStatus.DRAFT)
    PostFactory(author=other_user, status=PostStatus.DRAFT)
    published = PostFactory(author=author, status=PostStatus.PUBLISHED)

    drafts = client_for(author).get(LIST_URL, {"status": "draft"}).json()["results"]
    assert [p["id"] for p in drafts] == [own_draft.pk]
    published_only = client_for(author).get(LIST_URL, {"status": "published"}).json()["results"]
    assert [p["id"] for p in published_only] == [published.pk]
    assert client_for(None).get(LIST_URL, {"status": "draft"}).json()["results"] == []


def test_an_unknown_status_filter_is_a_400_that_names_the_choices():
    reply = client_for(None).get(LIST_URL, {"status": "archived"})
    assert reply.status_code == 400
    assert "draft, published" in reply.json()["errors"]["status"][0]


# --- Writing: the permissions matrix --------------------------------------------

WRITES = [
    ("patch", {"title": "Changed"}),
    ("put", {"title": "Replaced", "body": "New body", "status": "published"}),
    ("delete", None),
]


@pytest.mark.parametrize(("method", "payload"), WRITES)
@pytest.mark.parametrize(
    ("caller", "expected"),
    [("anonymous", 401), ("other", 403), ("author", None), ("staff", None)],
)
def test_only_the_author_or_staff_may_change_a_published_post(callers, author, caller, expected, method, payload):
    post = PostFactory(author=author, status=PostStatus.PUBLISHED)
    reply = getattr(client_for(callers[caller]), method)(detail_url(post), payload, format="json")
    success = 204 if method == "delete" else 200
    assert reply.status_code == (expected or success), reply.content
    if expected is not None:
        assert Post.objects.get(pk=post.pk).title == post.title  # nothing changed
        assert reply.json()["detail"]


@pytest.mark.parametrize(("method", "payload"), WRITES)
def test_someone_elses_draft_cannot_be_changed_or_even_seen(other_user, author, method, payload):
    draft = PostFactory(author=author, status=PostStatus.DRAFT)
    reply = getattr(client_for(other_user), method)(detail_url(draft), payload, format="json")
    assert reply.status_code == 404
    assert Post.objects.filter(pk=draft.pk, title=draft.title).exists()


def test_anonymous_write_is_a_401_that_asks_for_a_bearer_token(author):
    post = PostFactory(author=author)
    reply = client_for(None).delete(detail_url(post))
    assert reply.status_code == 401
    assert reply["WWW-Authenticate"].startswith("Bearer")
    assert reply.json() == {"code": "not_authenticated", "detail": "Authentication credentials were not provided."}


def test_a_bad_bearer_token_is_a_401_in_words(author):
    post = PostFactory(author=author)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    reply = client.delete(detail_url(post))
    assert reply.status_code == 401
    assert reply.json()["code"] == "token_not_valid"
    assert Post.objects.filter(pk=post.pk).exists()


def test_a_jwt_access_token_is_enough_to_write(author):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(author)}")
    reply = client.post(LIST_URL, {"title": "Written with a JWT"}, format="json")
    assert reply.status_code == 201, reply.content
    assert reply.json()["author"] == author.pk


def test_someone_elses_post_is_a_403_that_says_why(other_user, author):
    post = PostFactory(author=author)
    reply = client_for(other_user).delete(detail_url(post))
    assert reply.status_code == 403
    assert reply.json() == {
        "code": "permission_denied",
        "detail": "Only the post's author (or staff) can change or delete it.",
    }


def test_a_session_write_needs_the_csrf_token(author):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(author)
    reply = client.post(LIST_URL, {"title": "No CSRF"}, format="json")
    assert reply.status_code == 403
    assert "CSRF" in reply.json()["detail"]
    assert not Post.objects.exists()


# --- Creating and updating ------------------------------------------------------


def test_create_makes_a_draft_owned_by_the_caller(author):
    reply = client_for(author).post(LIST_URL, {"title": "  Team news  ", "body": "Line-ups"}, format="json")
    assert reply.status_code == 201, reply.content
    post = Post.objects.get(pk=reply.json()["id"])
    assert (post.title, post.body, post.status, post.author_id) == ("Team news", "Line-ups", "draft", author.pk)


def test_author_cannot_be_chosen_by_the_client(author, other_user):
    reply = client_for(author).post(LIST_URL, {"title": "Mine", "author": other_user.pk}, format="json")
    assert reply.status_code == 201
    assert Post.objects.get(pk=reply.json()["id"]).author_id == author.pk


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field may not be blank."),
        ({"title": "x" * 201}, "title", "Ensure this field has no more than 200 characters."),
        ({"title": "Fine", "status": "archived"}, "status", '"archived" is not a valid choice.'),
        ({"title": None}, "title", "This field may not be null."),
    ],
)
def test_invalid_input_is_a_400_naming_each_field(author, payload, field, message):
    reply = client_for(author).post(LIST_URL, payload, format="json")
    assert reply.status_code == 400
    assert reply.json()["code"] == "invalid"
    assert reply.json()["errors"][field] == [message]
    assert not Post.objects.exists()


def test_malformed_json_is_a_400_in_words(author):
    reply = client_for(author).generic("POST", LIST_URL, "{not json", content_type="application/json")
    assert reply.status_code == 400
    assert reply.json()["code"] == "malformed"


def test_partial_update_changes_only_what_it_sends(author):
    post = PostFactory(author=author, title="Before", body="Body stays", status=PostStatus.DRAFT)
    reply = client_for(author).patch(detail_url(post), {"status": "published"}, format="json")
    assert reply.status_code == 200
    post.refresh_from_db()
    assert (post.title, post.body, post.status) == ("Before", "Body stays", "published")


def test_full_update_needs_a_title(author):
    post = PostFactory(author=author)
    reply = client_for(author).put(detail_url(post), {"body": "no title"}, format="json")
    assert reply.status_code == 400
    assert reply.json()["errors"]["title"] == ["This field is required."]


def test_staff_may_moderate_someone_elses_draft(staff_user, author):
    draft = PostFactory(author=author, status=PostStatus.DRAFT)
    assert client_for(staff_user).patch(detail_url(draft), {"title": "Moderated"}, format="json").status_code == 200
    draft.refresh_from_db()
    assert draft.title == "Moderated"
    assert draft.author_id == author.pk
    assert client_for(staff_user).delete(detail_url(draft)).status_code == 204


def test_a_post_id_that_is_not_a_number_is_a_404():
    assert client_for(None).get("/api/posts/abc/").status_code == 404


def test_writes_are_rate_limited_per_user_with_a_clear_429(author, other_user, settings):
    settings.BLOG_POST_WRITE_RATE = "2/minute"
    client = client_for(author)
    for title in ("One", "Two"):
        assert client.post(LIST_URL, {"title": title}, format="json").status_code == 201
    refused = client.post(LIST_URL, {"title": "Three"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Retry-After" in refused
    assert not Post.objects.filter(title="Three").exists()
    # Reading is not limited, and the count is per user.
    assert client.get(LIST_URL).status_code == 200
    assert client_for(other_user).post(LIST_URL, {"title": "Other"}, format="json").status_code == 201
