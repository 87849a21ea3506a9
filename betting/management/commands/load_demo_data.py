"""Idempotent demo data: a demo bettor, the demo punter and a staff user with wallets, and always
something to bet on.

Every run (`make run` runs it first) tops the board up to DEMO_OPEN_MATCHES upcoming open
matches, however old the data is: a week after the first run, the first matches have kicked
off and fresh ones are opened. The matches are fixtures between the real teams of
DEMO_LEAGUE's latest season, priced by the team model: the command imports the league's
shipped results and fits its ratings first (a second run finds them and does neither).
"""

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from betting.matches import Fixture, matches_top_up
from betting.models import Wallet
from betting.selectors import match_list_upcoming_open
from betting.wallets import wallet_adjust, wallet_open
from teammodel.selectors import team_list_of_latest_season
from teammodel.services import league_ratings_load

DEMO_USER = ("demo@oddstream.local", "demo-password")
# The account `make run`'s `punter` process (manage.py demo_punter) bets in play with, so the
# demo bettor's own bets and balance stay the newcomer's.
DEMO_PUNTER = ("punter@oddstream.local", "punter-password")
STAFF_USER = ("admin@oddstream.local", "admin-password")
# The demo bettor gets a top-up on top of the sign-up credit, so a demo (or the integration
# tests' latency run of 50 bets) does not run dry.
DEMO_BETTOR_BALANCE = Decimal("10000.00")

# At least this many upcoming open matches after every run.
DEMO_OPEN_MATCHES = 5
# The league whose teams the demo's matches are between: a folder of FOOTBALL_DATA_DIR.
DEMO_LEAGUE = "premier-league"
# Seasons imported: what the fit reads (docs/team-model.md#the-demo). Importing every shipped
# season of every league takes ten times longer, and `make run` starts with this command.
DEMO_SEASONS = 4


class Command(BaseCommand):
    help = "Create the demo users if they do not exist, and open demo matches until five upcoming ones are open."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data has published passwords: it is never loaded under the production settings.")
        User = get_user_model()
        for (email, password), staff in ((DEMO_USER, False), (DEMO_PUNTER, False), (STAFF_USER, True)):
            user, created = User.objects.get_or_create(
                username=email, defaults={"email": email, "is_staff": staff, "is_superuser": staff}
            )
            if created:
                user.set_password(password)
                user.save()
                self.stdout.write(f"Created user {email}")
            if not Wallet.objects.filter(user=user).exists():
                with transaction.atomic():  # the top-up comes with the wallet or not at all
                    wallet = wallet_open(user=user)
                    if not staff and wallet.balance < DEMO_BETTOR_BALANCE:
                        wallet_adjust(
                            user_id=user.pk, amount=DEMO_BETTOR_BALANCE - wallet.balance, memo="Demo top-up", staff=None
                        )
                self.stdout.write(f"Opened the wallet of {email}")
        fit = league_ratings_load(
            folder=settings.FOOTBALL_DATA_DIR / DEMO_LEAGUE, league=DEMO_LEAGUE, seasons=DEMO_SEASONS
        )
        if fit is None:
            raise CommandError(f"No {DEMO_LEAGUE} results in {settings.FOOTBALL_DATA_DIR} (set FOOTBALL_DATA_DIR).")
        busy = {
            team
            for pair in match_list_upcoming_open(now=timezone.now()).values_list("home_team", "away_team")
            for team in pair
        }
        teams = team_list_of_latest_season(league=DEMO_LEAGUE)
        fixtures = demo_fixtures(teams, busy=busy, start=timezone.now().date())
        for match in matches_top_up(wanted=DEMO_OPEN_MATCHES, fixtures=fixtures):
            self.stdout.write(
                f"Created match {match.home_team} v {match.away_team}, kick-off {match.kickoff:%Y-%m-%d %H:%M}"
            )


def round_robin(teams: list[str]) -> Iterator[list[tuple[str, str]]]:
    """The rounds of a league's season (the circle method): every pairing once each way, and
    within a round no team twice."""
    sides: list[str | None] = [*teams, None] if len(teams) % 2 else list(teams)  # None: a bye
    count = len(sides)
    for leg, number in itertools.product((0, 1), range(count - 1)):
        circle = [sides[0], *sides[1:][number:], *sides[1:][:number]]
        pairs = [(circle[i], circle[count - 1 - i]) for i in range(count // 2)]
        yield [
            (home, away) if (number + leg) % 2 == 0 else (away, home)
            for home, away in pairs
            if home is not None and away is not None
        ]


def demo_fixtures(teams: list[str], *, busy: set[str], start: date) -> Iterator[Fixture]:
    """Fixtures between `teams`, opened at the team model's prices, a round at a time from a
    round that moves with `start` (each week's top-up shows new pairings). A team already in an
    upcoming match (`busy`) or in an earlier fixture yielded is left out: no team plays twice
    on the board."""
    rounds = list(round_robin(teams))
    if not rounds:
        return
    first = start.toordinal() % len(rounds)
    taken = set(busy)
    for pairs in rounds[first:] + rounds[:first]:
        for home, away in pairs:
            if home in taken or away in taken:
                continue
            taken.update((home, away))
            yield Fixture(home, away, opening=None, league=DEMO_LEAGUE)
