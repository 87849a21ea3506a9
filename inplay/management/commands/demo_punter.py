"""A demo punter betting in play over the API: what `make run`'s `punter` process runs.

It signs in as the demo punter (`load_demo_data` makes the account) with `POST /api/auth/token/`
and, every `--every` seconds (a seeded draw between the two bounds), places one small single on
a priced, open selection of a match in play, as a bettor's client would: a fresh
`Idempotency-Key` per bet, `accept_odds_change` "higher" or "any". The bet waits out the in-play
delay as `pending`; after its `decide_at` the command reads `GET /api/bets/<id>/` and prints
whether it was accepted or rejected, and why. So `/ops/` and `/metrics` show bets being decided
with nobody at the keyboard.

It outlives the site: a connection error, a 5xx or a 429 backs off (doubling, at most
`MAX_BACKOFF` seconds) and carries on; a 401 signs in again; any other refusal is printed and the
next bet comes at its time. SIGTERM or Ctrl-C stops it between requests.
"""

import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from betting.management.commands.load_demo_data import DEMO_PUNTER

# A match is in play between kick-off and full time (its live state's period).
IN_PLAY_PERIODS = ("first_half", "half_time", "second_half")
STAKES = ("1.00", "2.00", "3.00", "4.00", "5.00")
ACCEPT_MODES = ("higher", "any")
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 60.0
# A bet still pending when read is read again this much later, at most POLL_TRIES times.
POLL_AGAIN = 2.0
POLL_TRIES = 5


class Unavailable(Exception):
    """The site did not answer usefully (down, starting, 5xx, throttled): back off."""


@dataclass
class PendingBet:
    bet_id: int
    check_at: float  # monotonic
    tries: int = 0


class Punter:
    """The betting loop, its clock and transport given, so that a test drives it step by step."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        credentials: tuple[str, str],
        rng: random.Random,
        every: tuple[float, float],
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.email, self.password = credentials
        self.rng = rng
        self.every = every
        self.write = write
        self.clock = clock
        self.token: str | None = None
        self.backoff = 0.0
        self.pending: list[PendingBet] = []
        self.next_bet_at = clock()

    # --- The loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            wake = self.step()
            # In slices, so a stop is seen within a second whatever the wait.
            stop.wait(min(1.0, max(0.05, wake - self.clock())))

    def step(self) -> float:
        """Do what is due (read decided bets, place the next bet); return when to wake next."""
        now = self.clock()
        for pending in [p for p in self.pending if p.check_at <= now]:
            self.check(pending)
        if self.clock() >= self.next_bet_at:
            self.next_bet_at = self.clock() + self.bet_round()
        return min([self.next_bet_at, *(p.check_at for p in self.pending)])

    def bet_round(self) -> float:
        """Try one bet; the seconds until the next try."""
        try:
            self.bet()
        except (Unavailable, ValueError, KeyError) as exc:  # a reply not JSON or not as expected: likewise
            self.backoff = min(MAX_BACKOFF, self.backoff * 2 if self.backoff else FIRST_BACKOFF)
            self.write(f"Site unavailable ({exc}): trying again in {self.backoff:.0f} s")
            return self.backoff
        self.backoff = 0.0
        return self.rng.uniform(*self.every)

    # --- HTTP --------------------------------------------------------------------------------
    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One authenticated request: signs in first if need be, and again once on a 401."""
        for attempt in range(2):
            if self.token is None:
                self.sign_in()
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
            reply = self.send(method, url, headers=headers, **kwargs)
            if reply.status_code != 401 or attempt:
                return reply
            self.write("Signed out (401): signing in again")
            self.token = None
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        raise AssertionError("unreachable")

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            reply = self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(type(exc).__name__) from None
        if reply.status_code >= 500 or reply.status_code == 429:
            raise Unavailable(f"HTTP {reply.status_code}")
        return reply

    def sign_in(self) -> None:
        reply = self.send("POST", "/api/auth/token/", json={"email": self.email, "password": self.password})
        if reply.status_code != 200:
            # Wrong password or no account yet (load_demo_data not run): waiting is all there is to do.
            raise Unavailable(f"sign-in as {self.email} refused: HTTP {reply.status_code}")
        self.token = reply.json()["access"]
        self.write(f"Signed in as {self.email}")

    # --- Betting -----------------------------------------------------------------------------
    def bet(self) -> None:
        reply = self.send("GET", "/api/matches/")
        if reply.status_code != 200:
            raise Unavailable(f"match list: HTTP {reply.status_code}")
        body = reply.json()
        choice = pick(body["results"] if isinstance(body, dict) else body, self.rng)
        if choice is None:
            self.write("No open market in play: waiting")
            return
        match, market, selection, price = choice
        stake = self.rng.choice(STAKES)
        reply = self.call(
            "POST",
            "/api/bets/",
            json={
                "match": match["id"],
                "market": market,
                "selection": selection,
                "stake": stake,
                "odds": price,
                "accept_odds_change": self.rng.choice(ACCEPT_MODES),
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        what = f"{stake} on {market} {selection} at {price} in {match['home_team']} v {match['away_team']}"
        if reply.status_code not in (201, 202):
            try:
                code = reply.json().get("code", "")
            except ValueError:
                code = ""
            self.write(f"Bet refused: {what}: HTTP {reply.status_code} {code}".rstrip())
            return
        bet = reply.json()
        if bet["status"] != "pending":
            self.write(f"Bet {bet['id']} {bet['status']}: {what}")
            return
        self.write(f"Bet {bet['id']} pending until {bet['decide_at']}: {what}")
        self.pending.append(PendingBet(bet["id"], self.clock() + seconds_until(bet["decide_at"]) + 1.0))

    def check(self, pending: PendingBet) -> None:
        try:
            reply = self.call("GET", f"/api/bets/{pending.bet_id}/")
            bet = reply.json() if reply.status_code == 200 else {}
        except (Unavailable, ValueError) as exc:
            pending.check_at = self.clock() + max(FIRST_BACKOFF, self.backoff)
            self.write(f"Bet {pending.bet_id}: cannot read it ({exc}), trying again")
            return
        pending.tries += 1
        if bet.get("status") == "pending" and pending.tries < POLL_TRIES:
            pending.check_at = self.clock() + POLL_AGAIN
            return
        self.pending.remove(pending)
        if reply.status_code != 200:
            self.write(f"Bet {pending.bet_id}: HTTP {reply.status_code}")
        elif bet.get("status") == "rejected":
            self.write(f"Bet {pending.bet_id} rejected: {bet.get('reason')}")
        elif bet.get("status") == "pending":
            self.write(f"Bet {pending.bet_id} still pending")
        else:
            self.write(f"Bet {pending.bet_id} accepted ({bet.get('status')}) at {bet.get('odds')}")


def pick(matches: list[dict[str, Any]], rng: random.Random) -> tuple[dict[str, Any], str, str, float] | None:
    """A random priced selection of an open market of a match in play, or None."""
    choices = [
        (match, key, selection, price)
        for match in matches
        if match.get("status") == "open"
        and not match.get("suspended_reason")
        and (match.get("live") or {}).get("period") in IN_PLAY_PERIODS
        for key, prices in (match.get("markets") or {}).items()
        if (match.get("market_status") or {}).get(key) == "open"
        for selection, price in prices.items()
        if price is not None
    ]
    return rng.choice(choices) if choices else None


def seconds_until(iso: str | None) -> float:
    if not iso:
        return 0.0
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return min(60.0, max(0.0, (when - datetime.now(UTC)).total_seconds()))


class Command(BaseCommand):
    help = "Bet small stakes in play as the demo punter, over the API, every 15 to 40 s (seeded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The site to bet on.")
        parser.add_argument("--seed", type=int, default=None, help="Seed of the intervals, stakes and selections.")
        parser.add_argument(
            "--every", nargs=2, type=float, default=(15.0, 40.0), metavar=("MIN", "MAX"), help="Seconds between bets."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("The demo punter's password is published: it never runs under the production settings.")
        low, high = options["every"]
        if not 0 < low <= high:
            raise CommandError("--every wants 0 < MIN <= MAX.")
        stop = threading.Event()

        def stopped(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, stopped)
        signal.signal(signal.SIGINT, stopped)
        with httpx.Client(base_url=options["url"].rstrip("/"), timeout=10) as client:
            punter = Punter(
                client,
                credentials=DEMO_PUNTER,
                rng=random.Random(options["seed"]),
                every=(low, high),
                write=lambda line: self.stdout.write(line),
            )
            punter.run(stop)
        self.stdout.write("Stopped")
