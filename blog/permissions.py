"""Who may change a post: its author, or staff (moderation). Anyone may read what they can see."""

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from blog.models import Post


class IsAuthorOrStaffOrReadOnly(permissions.BasePermission):
    message = "Only the post's author (or staff) can change or delete it."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        assert isinstance(obj, Post)
        return bool(request.user.is_staff or obj.author_id == request.user.pk)
