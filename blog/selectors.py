"""Reads of the blog: which posts a user may see."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from blog.models import Post, PostStatus


def post_list_visible(*, user: AbstractBaseUser | AnonymousUser, status: str | None = None) -> QuerySet[Post]:
    """Published posts for everyone; drafts only for their author. Staff see every post,
    so they can moderate (edit or delete) a draft that should not be there."""
    posts = Post.objects.all()  # the API shows the author's id only: no join
    if not getattr(user, "is_staff", False):
        if user.is_authenticated:
            posts = posts.filter(Q(status=PostStatus.PUBLISHED) | Q(author_id=user.pk))
        else:
            posts = posts.filter(status=PostStatus.PUBLISHED)
    if status is not None:
        posts = posts.filter(status=status)
    return posts.order_by("-created_at", "-id")
