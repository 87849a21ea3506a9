"""Server-rendered pages. Live data arrives over the WebSocket; the first paint is HTML."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from betting.models import Match
from betting.selectors import match_list_listed


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"matches": match_list_listed()})


@ensure_csrf_cookie  # the bet slip posts with the session and needs the CSRF cookie
def match_detail(request: HttpRequest, match_id: int) -> HttpResponse:
    match = get_object_or_404(Match, pk=match_id)
    history = match.odds_versions.order_by("-version")[:20]
    return render(request, "frontend/match.html", {"match": match, "history": history})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and Redis answer."""
    from django.core.cache import cache

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc}"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
