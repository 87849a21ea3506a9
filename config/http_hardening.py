"""Two rules for every HTTP response, pages, API and static files alike.

- Only the methods the site uses are served: `TRACE`, `CONNECT` and any unknown method get
  405 with `Allow` (the API's JSON error body under /api/), before any view runs. Django's
  function views would otherwise answer them as if they were `GET`.
- `Permissions-Policy` (the PERMISSIONS_POLICY setting) denies the browser features the pages
  never use (camera, microphone, geolocation, payment, …) to them and to anything they embed.
"""

from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from config.middleware import SyncAndAsyncMiddleware

SERVED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    detail = f'Method "{request.method}" not allowed.'
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "method_not_allowed", "detail": detail}, status=405)
    else:
        response = HttpResponse(detail, status=405, content_type="text/plain; charset=utf-8")
    response["Allow"] = ", ".join(SERVED_METHODS)
    return response


def permissions_policy_add(response: HttpResponseBase) -> HttpResponseBase:
    if settings.PERMISSIONS_POLICY:
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
    return response


class HttpHardeningMiddleware(SyncAndAsyncMiddleware):
    """Outside whitenoise, so static files get the header and the method rule too."""

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in SERVED_METHODS:
            return permissions_policy_add(method_not_allowed(request))
        return permissions_policy_add(cast(HttpResponseBase, self.get_response(request)))

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in SERVED_METHODS:
            return permissions_policy_add(method_not_allowed(request))
        return permissions_policy_add(await self.get_response(request))  # type: ignore[misc]
