"""Who is asking: the client's address behind the proxies, and the reply to a locked-out sign-in.

One rule for every per-IP limit: DRF's throttles and django-axes both take the address from
here, so they count the same client. Behind `NUM_PROXIES` proxies that each append to
X-Forwarded-For, the client is the entry the outermost proxy appended; anything the client
wrote into the header itself sits to the left of it and is ignored.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    """The client's address, as DRF's throttles read it under the NUM_PROXIES setting."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads only request.META


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' reply to a sign-in while the account or the address is locked out: a 429
    with Retry-After, as JSON for the API and plain text for the pages."""
    from django.conf import settings

    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    detail = "Too many failed sign-ins from this address: try again later."
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "detail": detail}, status=429)
    else:
        response = HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response
