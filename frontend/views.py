"""Server-rendered pages. Live data arrives over the WebSocket; the first paint is HTML."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from betting.models import Match
from betting.selectors import bet_list_for_user, ledger_for_user, match_list_listed, wallet_balance_of


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"matches": match_list_listed()})


@ensure_csrf_cookie  # the bet slip posts with the session and needs the CSRF cookie
def match_detail(request: HttpRequest, match_id: int) -> HttpResponse:
    match = get_object_or_404(Match, pk=match_id)
    history = match.odds_versions.order_by("-version")[:20]
    return render(request, "frontend/match.html", {"match": match, "history": history})


@login_required
def my_bets(request: HttpRequest) -> HttpResponse:
    """The bettor's own bets; `bet` events on the socket update them live."""
    bets = bet_list_for_user(user_id=request.user.pk or 0)[:100]
    return render(request, "frontend/my_bets.html", {"bets": bets})


@login_required
def my_wallet(request: HttpRequest) -> HttpResponse:
    """Balance and ledger; `wallet` events on the socket update them live."""
    user_id = request.user.pk or 0
    context = {"balance": wallet_balance_of(user_id=user_id), "entries": ledger_for_user(user_id=user_id)[:100]}
    return render(request, "frontend/my_wallet.html", context)


def password_reset_page(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """Where the reset e-mail's link lands: choose a new password, through the same service
    as the API (which also signs the user out of every JWT session)."""
    from accounts.services import password_reset_confirm
    from betting.errors import BettingError

    context: dict[str, object] = {"uid": uid, "token": token}
    if request.method == "POST":
        password = request.POST.get("new_password", "")
        if password != request.POST.get("new_password_again", ""):
            context["error"] = "The two passwords differ."
        else:
            try:
                password_reset_confirm(uid=uid, token=token, new_password=password)
                context["done"] = True
            except BettingError as exc:
                context["error"] = exc.message
    return render(request, "frontend/password_reset.html", context)


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
