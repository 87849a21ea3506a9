"""Idempotent demo data: a demo bettor and a staff user with wallets, and always something to bet on.

Every run (`make run` runs it first) tops the board up to DEMO_OPEN_MATCHES upcoming open
matches, however old the data is: a week after the first run, the first matches have kicked
off and fresh ones are opened.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from betting.matches import Fixture, matches_top_up
from betting.models import Wallet
from betting.wallets import wallet_adjust, wallet_open

DEMO_USER = ("demo@oddstream.local", "demo-password")
STAFF_USER = ("admin@oddstream.local", "admin-password")
# The demo bettor gets a top-up on top of the sign-up credit, so a demo (or the integration
# tests' latency run of 50 bets) does not run dry.
DEMO_BETTOR_BALANCE = Decimal("10000.00")

# At least this many upcoming open matches after every run.
DEMO_OPEN_MATCHES = 5
DEMO_MATCHES = [
    ("Lyon", "Marseille", ("2.10", "3.40", "3.50")),
    ("Paris", "Lille", ("1.50", "4.20", "6.40")),
    ("Nantes", "Rennes", ("2.90", "3.10", "2.50")),
    ("Monaco", "Nice", ("1.90", "3.50", "4.10")),
    ("Lens", "Brest", ("2.20", "3.20", "3.40")),
]


class Command(BaseCommand):
    help = "Create the demo users if they do not exist, and open demo matches until five upcoming ones are open."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data has published passwords: it is never loaded under the production settings.")
        User = get_user_model()
        for (email, password), staff in ((DEMO_USER, False), (STAFF_USER, True)):
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
        for match in matches_top_up(wanted=DEMO_OPEN_MATCHES, fixtures=demo_fixtures()):
            self.stdout.write(
                f"Created match {match.home_team} v {match.away_team}, kick-off {match.kickoff:%Y-%m-%d %H:%M}"
            )


def demo_fixtures() -> list[Fixture]:
    return [
        Fixture(home, away, dict(zip(("home", "draw", "away"), map(Decimal, prices), strict=True)))
        for home, away, prices in DEMO_MATCHES
    ]
