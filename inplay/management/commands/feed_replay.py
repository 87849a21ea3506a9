"""Replay real matches as a feed: what `make run`'s `feed` process runs.

Each match is created (its real teams, prices from its season, kick-off a few seconds ahead so
the board shows it before it starts), then its events are posted to the feed endpoint over
HTTP with a feed token, as a provider would, at `--speed` times real time. The next match is
created so that it kicks off as the last one ends: one match is always in play.
"""

import functools
import heapq
import itertools
import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from betting.matches import match_create
from inplay import replay, services
from inplay.credentials import feed_provider_token_issue
from inplay.models import FeedProvider
from inplay.state import MAX_CLOCK_RATE, Kind

logger = logging.getLogger(__name__)
PROVIDER = "replay"


class Command(BaseCommand):
    help = "Replay real matches from FOOTBALL_DATA_DIR as feed events, one match always in play."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--speed", type=float, default=25.0, help="Match minutes per real minute (25: ~4 min).")
        parser.add_argument("--matches", type=int, default=0, help="Stop after this many matches (0: never).")
        parser.add_argument("--seed", type=int, default=None, help="Seed of the match and minute draws.")
        parser.add_argument("--lead", type=float, default=20.0, help="Seconds between a match's creation and kick-off.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The site whose feed endpoint to post to.")
        parser.add_argument("--direct", action="store_true", help="Call the feed service in-process, not HTTP.")

    def handle(self, *args: Any, **options: Any) -> None:
        seasons = replay.seasons(settings.FOOTBALL_DATA_DIR)
        if not seasons:
            raise CommandError(f"No football data in {settings.FOOTBALL_DATA_DIR} (set FOOTBALL_DATA_DIR).")
        if not 0 < options["speed"] <= MAX_CLOCK_RATE:
            # The kick-off carries the speed as its clock rate: one the feed refuses would leave
            # the match before kick-off, every later event of it ignored.
            raise CommandError(f"--speed must be positive and at most {MAX_CLOCK_RATE:g}, the feed's clock-rate bound.")
        self.rng = random.Random(options["seed"])
        self.seasons = seasons
        self.speed = options["speed"]
        self.lead = max(1.0, options["lead"])
        self.post = self.poster(options)
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.planned = 0
        self.finished = 0
        self.limit = options["matches"]
        self.plan_match(kickoff_at=time.time() + self.lead)
        while self.queue and (not self.limit or self.finished < self.limit):
            when, _, action = heapq.heappop(self.queue)
            time.sleep(max(0.0, when - time.time()))
            action()

    # --- Sending -----------------------------------------------------------------------------
    def poster(self, options: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        token = feed_provider_token_issue(name=PROVIDER)
        if options["direct"]:
            provider = FeedProvider.objects.get(name=PROVIDER)

            def post_direct(event: dict[str, Any]) -> None:
                services.feed_event_append(provider=provider, incoming=services.IncomingEvent(**event))

            return post_direct
        client = httpx.Client(
            base_url=options["url"].rstrip("/"), headers={"Authorization": f"Feed {token}"}, timeout=10
        )

        def post_http(event: dict[str, Any]) -> None:
            body = {key: value for key, value in event.items() if value not in (None, "")}
            body["match"] = body.pop("match_id")
            body["occurred_at"] = event["occurred_at"].isoformat()
            for attempt in itertools.count():
                try:
                    reply = client.post("/api/feed/events/", json=body)
                except httpx.HTTPError as exc:
                    reply, error = None, str(exc)
                if reply is not None and reply.status_code < 500:
                    if reply.status_code >= 400:
                        logger.error("The feed refused %s: %s %s", body["event_id"], reply.status_code, reply.text)
                    return
                # The site is starting or down: the same event again (a duplicate is harmless).
                logger.warning("Feed post failed (%s), retrying", reply.status_code if reply else error)
                time.sleep(min(5.0, 0.5 * 2**attempt))

        return post_http

    # --- Planning ----------------------------------------------------------------------------
    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (when, next(self.order), action))

    def plan_match(self, *, kickoff_at: float) -> None:
        """Create the next match `lead` seconds before `kickoff_at`, and schedule its events."""
        if self.limit and self.planned >= self.limit:
            return
        self.planned += 1
        season = replay.season_matches(self.rng.choice(self.seasons))
        played = self.rng.choice(season)
        events = replay.script(played, self.rng)
        minute_seconds = 60 / self.speed

        def create() -> None:
            match = match_create(
                home_team=played.home,
                away_team=played.away,
                kickoff=timezone.now() + timedelta(seconds=max(0.5, kickoff_at - time.time())),
                opening=replay.opening_prices(played, season),
            )
            self.stdout.write(
                f"Match {match.pk}: {played.home} v {played.away} ({played.league} {played.date}, "
                f"{played.full_time[0]}-{played.full_time[1]}), kick-off in {kickoff_at - time.time():.0f} s"
            )
            for number, event in enumerate(events, start=1):
                self.at(kickoff_at + event.at * minute_seconds, functools.partial(self.send, match.pk, number, event))
            full_time_at = kickoff_at + events[-1].at * minute_seconds
            self.at(full_time_at, self.match_finished)
            self.at(full_time_at - self.lead, lambda: self.plan_match(kickoff_at=full_time_at))

        self.at(kickoff_at - self.lead, create)

    def send(self, match_id: int, sequence: int, event: replay.ScriptedEvent) -> None:
        self.post(
            {
                "event_id": f"replay-{match_id}-{sequence}",
                "match_id": match_id,
                "sequence": sequence,
                "kind": event.kind.value,
                "occurred_at": timezone.now(),
                "team": event.team,
                "minute": event.minute,
                "clock_rate": self.speed if event.kind == Kind.KICK_OFF else None,
            }
        )
        self.stdout.write(f"Match {match_id}: {event.kind.value} {event.team} {event.minute or ''}".rstrip())

    def match_finished(self) -> None:
        self.finished += 1
