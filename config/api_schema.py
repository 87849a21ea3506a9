"""Shared OpenAPI descriptions of the error bodies every API endpoint may answer with.

The schema is the contract (the live API is checked against it by schemathesis in CI), so
these say exactly what `config.exceptions.api_exception_handler` renders: every error body
has `code` and `detail`, and every 400 also has `errors`.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

# A field's messages, or (for a dict or list field) the messages of each of its keys or items.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "description": "Messages per key or index of a nested field."},
        ]
    },
    "example": {"stake": ["The stake must be at least 0.10."]},
}


@extend_schema_field(FIELD_ERRORS_SCHEMA)
class FieldErrorsField(serializers.DictField):
    pass


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Machine-readable reason, e.g. `not_found`, `odds_changed`."),
        "detail": serializers.CharField(help_text="What went wrong, for a human."),
    },
)
ValidationErrorSerializer = inline_serializer(
    name="ValidationError",
    fields={
        "code": serializers.CharField(
            help_text="`invalid` (a field is wrong), `malformed` (the body is not JSON), or a domain reason."
        ),
        "detail": serializers.CharField(),
        "errors": FieldErrorsField(
            help_text="Messages per field; `non_field_errors` for what belongs to no one field (or the body)."
        ),
    },
)


def error(description: str, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


BAD_REQUEST = error("Invalid input: `errors` names each bad field. Nothing was written.", ValidationErrorSerializer)
UNAUTHENTICATED = error("No valid credentials (JWT `Authorization: Bearer`, or the session).")
FORBIDDEN = error("Authenticated but without the permission (`betting.trade_match` or `betting.settle_match`).")
NOT_FOUND = error("No such object (or not yours).")
PAGE_NOT_FOUND = error("No such page.")
THROTTLED = error("Too many requests: retry after the `Retry-After` header's seconds.")


def document_unsupported_media_type(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every operation that reads a body reads JSON only, and says so with
    its 415 (DRF answers it before the view runs, so no view's annotations can list it)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415",
                    {
                        "description": "The API reads JSON bodies only (`Content-Type: application/json`).",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
