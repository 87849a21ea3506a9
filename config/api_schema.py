"""Shared OpenAPI descriptions of the error bodies every API endpoint may answer with."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Machine-readable reason, e.g. `invalid`, `odds_changed`."),
        "detail": serializers.CharField(help_text="What went wrong, for a human."),
    },
)
ValidationErrorSerializer = inline_serializer(
    name="ValidationError",
    fields={
        "code": serializers.CharField(default="invalid"),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), help_text="Messages per field."
        ),
    },
)


def error(description: str, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


BAD_REQUEST = error("Invalid input: `errors` names each bad field. Nothing was written.", ValidationErrorSerializer)
UNAUTHENTICATED = error("No valid credentials (JWT `Authorization: Bearer`, session or Basic).")
FORBIDDEN = error("Authenticated but not allowed (staff only).")
NOT_FOUND = error("No such object (or not yours).")
THROTTLED = error("Too many requests: retry after the `Retry-After` header's seconds.")
