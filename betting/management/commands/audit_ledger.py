"""Check that every wallet's balance is the sum of its ledger; exit 1 on any mismatch."""

from django.core.management.base import BaseCommand, CommandError

from betting.models import Bet, Wallet
from betting.selectors import ledger_audit


class Command(BaseCommand):
    help = "Audit every wallet against its ledger and every settled bet against its payout. Exits 1 on a mismatch."

    def handle(self, *args: object, **options: object) -> None:
        problems = ledger_audit()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"Ledger audit failed: {len(problems)} problem(s).", returncode=1)
        self.stdout.write(
            f"Ledger audit passed: {Wallet.objects.count()} wallets, {Bet.objects.count()} bets, no mismatch."
        )
