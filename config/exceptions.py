"""One exception handler for the API: domain errors become clear 4xx replies.

Every error body has `code` and `detail`; validation errors add `errors`, one list of
messages per field.
"""

from typing import Any

from django.core.exceptions import ValidationError as ModelValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from betting.errors import BettingError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BettingError):
        return Response({"code": exc.code, "detail": exc.message, **exc.extra}, status=exc.status_code)
    if isinstance(exc, ModelValidationError):
        # A model's full_clean() in a service refused the data: still the client's input.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            {"code": "invalid", "detail": "The request is not valid.", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.ParseError):
        return Response({"code": "malformed", "detail": str(exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None) or ("not_found" if isinstance(exc, Http404) else "error")
        response.data = {"code": code, "detail": str(response.data["detail"])}
    return response
