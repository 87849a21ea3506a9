"""One exception handler for the API: application errors (every app's, all derived from
`config.errors.ApplicationError`) become clear 4xx replies.

Every error body has `code` and `detail`; every 400 adds `errors`, one list of messages per
field (`non_field_errors` for the rest), as `config/api_schema.py` documents it.
"""

from typing import Any

from django.core.exceptions import ValidationError as ModelValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import ApplicationError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        if exc.status_code == status.HTTP_400_BAD_REQUEST:
            body.setdefault("errors", {"non_field_errors": [exc.message]})
        return Response(body, status=exc.status_code)
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
        detail = str(exc.detail)
        return Response(
            {"code": "malformed", "detail": detail, "errors": {"non_field_errors": [detail]}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        # simplejwt's errors name their code beside the detail (`password_changed`, `user_inactive`).
        code = (
            response.data.get("code")
            or getattr(response.data["detail"], "code", None)
            or ("not_found" if isinstance(exc, Http404) else "error")
        )
        response.data = {"code": code, "detail": str(response.data["detail"])}
    return response


@csrf_exempt  # it changes nothing, and a CSRF refusal would be the site's HTML 403
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """What an /api/ path that no route matches answers (e.g. `/api/bets/abc/`): the API's JSON
    404, not the site's HTML page, whatever DEBUG says."""
    return JsonResponse({"code": "not_found", "detail": "No such API endpoint or object."}, status=404)
