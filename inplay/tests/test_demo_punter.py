"""The demo punter against a fake site (httpx.MockTransport, a fake clock): what it bets on, how it
signs in, how it outlives the site's outages; then once against the site's own views."""

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from betting.models import Bet, BetStatus
from betting.tests.factories import UserFactory
from inplay.management.commands.demo_punter import FIRST_BACKOFF, Punter

PRE_MATCH = {
    "id": 1,
    "home_team": "Early FC",
    "away_team": "Late FC",
    "status": "open",
    "suspended_reason": "",
    "live": None,
    "markets": {"1x2": {"home": 2.0, "draw": 3.4, "away": 3.6}},
    "market_status": {"1x2": "open"},
}
IN_PLAY = {
    "id": 2,
    "home_team": "Leeds",
    "away_team": "Hull",
    "status": "open",
    "suspended_reason": "",
    "live": {"period": "second_half"},
    # Only over/under 2.5 is open and priced: the punter's one choice.
    "markets": {"1x2": {"home": 1.5, "draw": 4.0, "away": 6.0}, "over_under_2_5": {"over": None, "under": 1.8}},
    "market_status": {"1x2": "suspended", "over_under_2_5": "open"},
}
SUSPENDED = {**IN_PLAY, "id": 3, "status": "suspended", "suspended_reason": "goal"}


class FakeSite:
    """Answers like the site; `script` maps a (method, path) to replies to give first, in order."""

    def __init__(self, matches: list[dict[str, Any]]) -> None:
        self.matches = matches
        self.requests: list[httpx.Request] = []
        self.script: dict[tuple[str, str], list[Any]] = {}
        self.tokens = 0
        self.bet_status = "open"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self.script.get((request.method, request.url.path))
        if queued:
            reply = queued.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return httpx.Response(reply)
        if request.url.path == "/api/auth/token/":
            self.tokens += 1
            return httpx.Response(200, json={"access": f"token-{self.tokens}", "refresh": "r"})
        if request.url.path == "/api/matches/":
            return httpx.Response(200, json={"count": len(self.matches), "results": self.matches})
        if request.headers.get("Authorization") != f"Bearer token-{self.tokens}":
            return httpx.Response(401, json={"code": "not_authenticated"})
        if request.method == "POST" and request.url.path == "/api/bets/":
            decide_at = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
            return httpx.Response(202, json={"id": 9, "status": "pending", "decide_at": decide_at})
        if request.url.path == "/api/bets/9/":
            return httpx.Response(200, json={"id": 9, "status": self.bet_status, "reason": "", "odds": 1.8})
        return httpx.Response(404)

    def bets(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST" and r.url.path == "/api/bets/"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def punter_on(
    site: FakeSite | httpx.MockTransport, password: str = "pw", clock: Clock | None = None
) -> tuple[Punter, list[str], Clock]:
    lines: list[str] = []
    clock = clock or Clock()
    transport = site if isinstance(site, httpx.MockTransport) else httpx.MockTransport(site)
    client = httpx.Client(base_url="http://testserver", transport=transport)
    punter = Punter(
        client,
        credentials=("punter@oddstream.local", password),
        rng=random.Random(1),
        every=(15.0, 40.0),
        write=lines.append,
        clock=clock,
    )
    return punter, lines, clock


def test_bets_only_on_a_priced_open_market_of_a_match_in_play_with_a_fresh_key_each_time() -> None:
    site = FakeSite([PRE_MATCH, SUSPENDED, IN_PLAY])
    punter, lines, _ = punter_on(site)
    waits = [punter.bet_round(), punter.bet_round()]
    assert all(15.0 <= wait <= 40.0 for wait in waits)
    bets = site.bets()
    assert len(bets) == 2
    bodies = [httpx.Response(200, content=bet.content).json() for bet in bets]
    for body in bodies:
        assert (body["match"], body["market"], body["selection"], body["odds"]) == (2, "over_under_2_5", "under", 1.8)
        assert body["accept_odds_change"] in ("higher", "any")
        assert body["stake"] in ("1.00", "2.00", "3.00", "4.00", "5.00")
    keys = [bet.headers.get("Idempotency-Key") for bet in bets]
    assert all(keys) and keys[0] != keys[1]
    assert "Bet 9 pending until" in lines[-1]


def test_no_match_in_play_places_nothing_and_waits_its_interval() -> None:
    site = FakeSite([PRE_MATCH, SUSPENDED])
    punter, lines, _ = punter_on(site)
    assert 15.0 <= punter.bet_round() <= 40.0
    assert site.bets() == []
    assert lines == ["No open market in play: waiting"]


def test_a_401_signs_in_again_and_the_bet_goes_through_with_the_new_token() -> None:
    site = FakeSite([IN_PLAY])
    punter, lines, _ = punter_on(site)
    punter.bet_round()
    site.tokens += 1  # the site no longer takes the first token (signed out, expired)
    punter.bet_round()
    bets = site.bets()
    assert [bet.headers["Authorization"] for bet in bets] == ["Bearer token-1", "Bearer token-1", "Bearer token-3"]
    assert "Signed out (401): signing in again" in lines
    # The retry is the same request: the same idempotency key, so a bet placed once is not twice.
    assert bets[1].headers["Idempotency-Key"] == bets[2].headers["Idempotency-Key"]


def test_a_503_or_a_refused_connection_backs_off_and_then_carries_on() -> None:
    site = FakeSite([IN_PLAY])
    site.script[("GET", "/api/matches/")] = [503, httpx.ConnectError("refused"), 500]
    punter, lines, _ = punter_on(site)
    assert [punter.bet_round() for _ in range(3)] == [FIRST_BACKOFF, 2 * FIRST_BACKOFF, 4 * FIRST_BACKOFF]
    assert site.bets() == []
    assert 15.0 <= punter.bet_round() <= 40.0  # the site is back: a bet, and the normal interval
    assert len(site.bets()) == 1 and punter.backoff == 0.0
    assert any("HTTP 503" in line for line in lines) and any("ConnectError" in line for line in lines)


def test_a_pending_bet_is_read_after_its_delay_and_its_decision_printed() -> None:
    site = FakeSite([IN_PLAY])
    punter, lines, clock = punter_on(site)
    wake = punter.step()  # the first bet, pending for 6 s: the next wake-up is its read
    assert wake - clock.now == pytest.approx(7.0, abs=0.5)
    site.bet_status = "pending"  # the worker is late: read again a bit later
    clock.now = wake
    punter.step()
    assert punter.pending and lines[-1].startswith("Bet 9 pending until")
    site.bet_status = "rejected"
    clock.now = punter.pending[0].check_at
    punter.step()
    assert punter.pending == [] and lines[-1] == "Bet 9 rejected: "


def test_run_returns_once_stopped() -> None:
    site = FakeSite([])
    punter, _, _ = punter_on(site)
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    punter.run(stop)  # returns within a slice of the stop
    assert stop.is_set()


def test_the_command_refuses_a_backwards_interval() -> None:
    with pytest.raises(CommandError):
        call_command("demo_punter", "--every", "10", "5")


def django_transport(django_capture_on_commit_callbacks) -> httpx.MockTransport:
    """httpx requests answered by the site's own views (Django's test client), on-commit work run."""
    client = Client()

    def handle(request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        with django_capture_on_commit_callbacks(execute=True):
            reply = client.generic(
                request.method,
                request.url.raw_path.decode(),
                data=request.content,
                content_type=request.headers.get("content-type", ""),
                headers=headers,
            )
        return httpx.Response(reply.status_code, content=reply.content, headers=dict(reply.headers))

    return httpx.MockTransport(handle)


@pytest.mark.django_db
def test_against_the_real_api_the_punter_signs_in_and_its_in_play_bet_is_pending(
    feed, match, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr("betting.jobs.bet_decide_enqueue", lambda *, bet_id, countdown: None)
    UserFactory(username="punter@oddstream.local")
    transport = django_transport(django_capture_on_commit_callbacks)
    punter, lines, _ = punter_on(transport, password="correct-horse-battery")
    punter.bet_round()
    assert lines == ["No open market in play: waiting"]  # the match has not kicked off
    feed.send("kick_off")
    punter.bet_round()
    bet = Bet.objects.get()
    assert bet.match_id == match.pk and bet.status == BetStatus.PENDING and 1 <= bet.stake <= 5
    assert lines[-2:] == ["Signed in as punter@oddstream.local", lines[-1]] and f"Bet {bet.pk} pending" in lines[-1]
