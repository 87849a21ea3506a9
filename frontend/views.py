"""Server-rendered pages. Live data arrives over the WebSocket; the first paint is HTML."""

import logging
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.errors import AccountsError
from accounts.services import password_reset_confirm, user_register
from accounts.throttles import reset_attempt_allowed, signup_attempt_allowed
from betting.api.serializers import BetHistoryQuerySerializer
from betting.cashout import cashout_values
from betting.events import match_state, odds_as_numbers
from betting.idempotency import request_fingerprint
from betting.models import BetStatus, LedgerKind, Match, OddsVersion
from betting.selectors import MARKETS, bet_history, match_list_listed, wallet_for_user
from blog.models import PostStatus
from blog.selectors import post_list_visible
from config.errors import ApplicationError, DependencyUnavailable
from frontend.markets import market_groups
from history.api.serializers import LedgerHistoryQuerySerializer
from history.selectors import ledger_history, page_filters
from inplay.events import feed_event_payload
from inplay.selectors import match_timeline
from payments.forms import payment_forms
from payments.selectors import payment_list_for_user
from payments.services import payment_request
from safergambling.forms import LIMIT_ROWS, SignupLimitsForm, deposit_refusal_words

# Points the match page's chart starts with; it keeps at most as many while it extends live.
CHART_POINTS = 200
LEDGER_PAGE_SIZE = 20
BETS_PAGE_SIZE = 20
LATEST_POSTS = 5

logger = logging.getLogger(__name__)


def chart_point(version: OddsVersion) -> dict[str, Any]:
    """One point of the 1X2 chart; a closed selection's price is null (a gap in its line)."""
    return {
        "version": version.version,
        "t": version.computed_at.timestamp(),
        **odds_as_numbers({"home": version.home, "draw": version.draw, "away": version.away}),
    }


@ensure_csrf_cookie  # the bet slip posts with the session and needs the CSRF cookie
def home(request: HttpRequest) -> HttpResponse:
    # Matches in play first (a bettor comes for the live ones), then by kick-off.
    matches = match_list_listed().order_by("-in_play", "kickoff", "pk")
    return render(request, "frontend/home.html", {"matches": matches})


@ensure_csrf_cookie
def match_detail(request: HttpRequest, match_id: int) -> HttpResponse:
    match = get_object_or_404(Match.objects.select_related("live_state"), pk=match_id)
    rows = list(match.market_rows.all())
    latest = list(match.odds_versions.order_by("-version")[:CHART_POINTS])
    context = {
        "match": match,
        "groups": market_groups(match, rows),
        "market_count": len(rows),
        # The page's script starts from the same state the socket then keeps current.
        "state": match_state(match, rows),
        "timeline": [feed_event_payload(event, outcome) for event, outcome in match_timeline(match.pk)],
        "chart": [chart_point(version) for version in reversed(latest)],
        "chart_points": CHART_POINTS,
        "posts": post_list_visible(user=request.user, status=PostStatus.PUBLISHED)[:LATEST_POSTS],
    }
    return render(request, "frontend/match.html", context)


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if allowed else "/"


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=150)
    password = forms.CharField(strip=False)


def signup(request: HttpRequest) -> HttpResponse:
    """A new fan's account, through the same service as the API, then signed in by session.
    Limited per client IP like the API's sign-up (each account opens with a credit)."""
    form = SignupForm(request.POST or None)
    limits = SignupLimitsForm(request.POST or None)
    context = {"form": form, "limits": limits, "limit_rows": LIMIT_ROWS, "next": safe_next(request)}
    if request.method == "POST" and not signup_attempt_allowed(request):
        form.add_error(None, "Too many sign-ups from this address: try again later.")
        return render(request, "frontend/signup.html", context, status=429)
    if request.method == "POST" and form.is_valid() and limits.is_valid():
        try:
            user = user_register(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], limits=limits.limits()
            )
        except ApplicationError as exc:
            for field, errors in exc.extra.get("errors", {"__all__": [exc.message]}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(safe_next(request))
    return render(request, "frontend/signup.html", context)


def filters_query(request: HttpRequest) -> str:
    """The page's filters as a query string, for its pager and its export link."""
    return urlencode({key: str(value) for key, value in request.GET.items() if key != "page" and value})


@login_required
def my_bets(request: HttpRequest) -> HttpResponse:
    """The bettor's own bets; `bet` events on the socket update them live."""
    filters, errors = page_filters(BetHistoryQuerySerializer, request.GET)
    bets = bet_history(user_id=request.user.pk or 0, **filters)
    page = Paginator(bets, BETS_PAGE_SIZE).get_page(request.GET.get("page"))
    # The open bets' cash-out offers now; `cashout` frames keep them current.
    open_bets = [bet for bet in page.object_list if bet.status == BetStatus.OPEN]
    context = {
        "bets": page.object_list,
        "cashout_values": cashout_values(open_bets) if open_bets else {},
        "page": page,
        "filters": filters,
        "errors": errors,
        "query": filters_query(request),
        "statuses": BetStatus.choices,
        "markets": MARKETS,
    }
    return render(request, "frontend/my_bets.html", context, status=400 if errors else 200)


@login_required
def my_wallet(request: HttpRequest) -> HttpResponse:
    """Balance, deposits and withdrawals, and the ledger; `wallet` events on the socket update
    them live. The forms go through the same payment service as the API."""
    user = cast(User, request.user)
    forms_by_kind = payment_forms(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        form = forms_by_kind.get(request.POST.get("kind", ""))
        if form is None:
            status = 400
        elif form.is_valid():
            data = form.cleaned_data
            try:
                payment, _ = payment_request(
                    user=user,
                    kind=data["kind"],
                    amount=data["amount"],
                    idempotency_key=f"page-{data['idempotency_key']}",
                    fingerprint=request_fingerprint({"kind": data["kind"], "amount": str(data["amount"])}),
                )
            except ApplicationError as exc:
                ruled = deposit_refusal_words(exc.code, exc.extra)
                form.add_error("amount" if "amount" in exc.extra.get("errors", {}) else None, ruled or exc.message)
                # The template shows the refusal's code and links these words to the account's limits and breaks.
                form.refusal_code = exc.code  # type: ignore[attr-defined]
                form.safer_gambling_refusal = ruled is not None  # type: ignore[attr-defined]
                status = exc.status_code
            except DependencyUnavailable:
                form.add_error(None, "The payment service does not answer: nothing was paid. Try again shortly.")
                status = 503
            else:
                done = (
                    "is pending: it completes when the provider confirms" if payment.status == "pending" else "is done"
                )
                messages.success(request, f"Your {payment.kind} of {payment.amount} {done}.")
                return HttpResponseRedirect(request.path)
        else:
            status = 400
    wallet = wallet_for_user(user_id=user.pk)
    filters, errors = page_filters(LedgerHistoryQuerySerializer, request.GET)
    entries = ledger_history(user_id=user.pk, **filters)
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "balance": wallet.balance if wallet else Decimal("0.00"),
        "held": wallet.held if wallet else Decimal("0.00"),
        "available": wallet.available if wallet else Decimal("0.00"),
        "deposit_form": forms_by_kind["deposit"],
        "withdrawal_form": forms_by_kind["withdrawal"],
        "pending_payments": payment_list_for_user(user_id=user.pk).filter(status="pending"),
        "page": page,
        "entries": page.object_list,
        "filters": filters,
        "errors": errors,
        "query": filters_query(request),
        "kinds": LedgerKind.choices,
    }
    if errors and status == 200:
        status = 400
    response = render(request, "frontend/my_wallet.html", context, status=status)
    if status == 503:
        response["Retry-After"] = str(settings.DEPENDENCY_RETRY_AFTER_SECONDS)
    return response


def password_reset_page(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """Where the reset e-mail's link lands: choose a new password, through the same service
    as the API (which also signs the user out of every JWT session)."""
    context: dict[str, object] = {"uid": uid, "token": token}
    if request.method == "POST" and not reset_attempt_allowed(request, account=uid):
        context["error"] = "Too many attempts: try again later."
        return render(request, "frontend/password_reset.html", context, status=429)
    if request.method == "POST":
        password = request.POST.get("new_password", "")
        if password != request.POST.get("new_password_again", ""):
            context["error"] = "The two passwords differ."
        else:
            try:
                password_reset_confirm(uid=uid, token=token, new_password=password)
                context["done"] = True
            except AccountsError as exc:
                context["error"] = exc.message
    return render(request, "frontend/password_reset.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and Redis answer. A failing one is named, never described: the
    exception text (hosts, users, driver details) goes to the log, not to whoever asks."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        logger.exception("Readiness: the database does not answer")
        checks["database"] = "unavailable"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["redis"] = "ok"
    except Exception:
        logger.exception("Readiness: Redis does not answer")
        checks["redis"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(settings.DEPENDENCY_RETRY_AFTER_SECONDS)
    return response
