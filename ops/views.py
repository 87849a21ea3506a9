import hmac

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from prometheus_client import CONTENT_TYPE_LATEST

from betting import selectors as betting_selectors
from inplay import selectors as inplay_selectors
from ops import metrics, selectors


def metrics_allowed(request: HttpRequest) -> bool:
    """Prometheus with the bearer token, or a staff member's session."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = HttpResponse("Metrics need a bearer token or a staff session.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)


def ops_status() -> dict[str, object]:
    stats = selectors.pipeline_stats()
    return {
        "queues": selectors.queue_lengths(),
        "websockets": selectors.websocket_counts(),
        "workers": selectors.workers_alive(),
        "uncounted": selectors.uncounted_bets(),
        "pipeline": {
            "versions_last_5_min": stats.versions_in_window,
            "latency_p50_ms": stats.latency_p50_ms,
            "latency_p99_ms": stats.latency_p99_ms,
            "latency_max_ms": stats.latency_max_ms,
        },
        "series": selectors.pipeline_series(),
        "matches": selectors.match_counts_by_status(),
        "bets": selectors.bet_totals(),
        "inplay": {
            "matches_in_play": inplay_selectors.matches_in_play(),
            "markets_suspended": inplay_selectors.markets_suspended(),
            "feed_events": inplay_selectors.feed_event_counts(),
            "feed_lag_ms": inplay_selectors.feed_lag_recent_ms(),
            "bets_pending": betting_selectors.bets_pending(),
            "bet_decision_ms": betting_selectors.bet_decision_recent_ms(),
        },
    }


@staff_member_required
def ops_page(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/ops.html", {"status": ops_status(), "flower_url": settings.FLOWER_URL})


@staff_member_required
def ops_status_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(ops_status())
