"""The posts API: thin views over the blog's selectors and services."""

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, permissions, status, throttling, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from blog import selectors, services
from blog.api.serializers import PostInputSerializer, PostOutputSerializer
from blog.models import Post, PostStatus
from blog.permissions import IsAuthorOrStaffOrReadOnly
from config.api_schema import BAD_REQUEST, NOT_FOUND, PAGE_NOT_FOUND, THROTTLED, UNAUTHENTICATED, error
from config.pagination import PageNumberPagination


class PostPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class PostWriteThrottle(throttling.UserRateThrottle):
    """Bounds each user's writes: one write fans out to every open blog socket.

    Counted in the Redis cache, so every web process shares one count."""

    scope = "post_writes"

    def get_rate(self) -> str:
        return settings.BLOG_POST_WRITE_RATE


STATUS_PARAMETER = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=PostStatus.values,
    description="Only posts in this status. Drafts are only ever the caller's own (staff: everyone's).",
)
WRITE_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: error("Not the post's author (nor staff), or a session write without its CSRF header."),
    404: NOT_FOUND,
    429: THROTTLED,
}


def write_schema(summary: str, event: str, success: int, audience: str = "Author or staff.") -> Any:
    """Every write: same input, its success reply, the error replies, and the event it announces."""
    body = None if success == 204 else PostOutputSerializer
    return extend_schema(
        summary=summary,
        request=None if success == 204 else PostInputSerializer,
        responses={success: body, **WRITE_ERRORS},
        description=f"{audience} Announces `{event}` on /ws/blog/ after commit (a draft's: to its author only).",
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the posts the caller can see",
        description="Published posts for everyone, plus the caller's own drafts. Newest first.",
        parameters=[STATUS_PARAMETER],
        responses={200: PostOutputSerializer(many=True), 400: BAD_REQUEST, 404: PAGE_NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="One post (a draft only for its author)", responses={200: PostOutputSerializer, 404: NOT_FOUND}
    ),
    create=write_schema("Write a post", "post_created", 201, audience="Any signed-in user."),
    update=write_schema("Replace a post's fields", "post_updated", 200),
    partial_update=write_schema("Change some of a post's fields", "post_updated", 200),
    destroy=write_schema("Delete a post", "post_deleted", 204),
)
class PostViewSet(viewsets.ModelViewSet[Post]):
    serializer_class = PostOutputSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsAuthorOrStaffOrReadOnly]
    pagination_class = PostPagination
    filter_backends = [filters.SearchFilter]
    search_fields = ["title"]
    lookup_value_regex = r"\d+"

    def get_throttles(self) -> list[Any]:
        if self.request.method in permissions.SAFE_METHODS:
            return super().get_throttles()
        return [*super().get_throttles(), PostWriteThrottle()]

    def get_queryset(self) -> Any:
        return selectors.post_list_visible(user=self.request.user, status=self._status_filter())

    def _status_filter(self) -> str | None:
        if self.action != "list":
            return None
        wanted = self.request.query_params.get("status")
        if wanted is None:
            return None
        if wanted not in PostStatus.values:
            choices = ", ".join(PostStatus.values)
            raise ValidationError({"status": [f"Unknown status {wanted!r}: use one of {choices}."]})
        return wanted

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PostInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.post_create(author=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(PostOutputSerializer(post).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        post = self.get_object()  # 404 if the caller cannot see it, 403 if not theirs
        serializer = PostInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        post = services.post_update(post=post, **serializer.validated_data)
        return Response(PostOutputSerializer(post).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.post_delete(post=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
