"""Property: over any bets and any result, what settlement pays is what the ledger says."""

from decimal import ROUND_DOWN, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, MatchStatus, Wallet
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import match_bets_settle, match_transition
from betting.tests.factories import MatchFactory, UserFactory

CREDIT = Decimal("100000.00")

bet_strategy = st.tuples(
    st.integers(min_value=0, max_value=3),  # which bettor
    st.sampled_from(["home", "draw", "away"]),
    st.integers(min_value=10, max_value=500_000).map(lambda cents: Decimal(cents) / 100),  # 0.10 to 5000.00
)


class SettlementLedgerProperties(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(bets=st.lists(bet_strategy, max_size=12), result=st.sampled_from(["home", "draw", "away", "void"]))
    def test_payouts_and_refunds_equal_the_ledger(self, bets: list, result: str) -> None:
        bettors = [UserFactory(wallet=CREDIT) for _ in range(4)]
        match = MatchFactory()
        for bettor, selection, stake in bets:
            bet_place(
                user=bettors[bettor], match_id=match.pk, selection=selection, stake=stake, accept_odds_change="any"
            )

        if result == "void":
            match_transition(match_id=match.pk, status=MatchStatus.VOID)
        else:
            match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
            match_transition(match_id=match.pk, status=MatchStatus.SETTLED, result=result)
        # The test transaction never commits, so the on-commit task does not run: run it
        # here, twice, as a redelivered task would.
        match_bets_settle(match_id=match.pk)
        assert match_bets_settle(match_id=match.pk) == 0

        expected_by_user: dict[int, Decimal] = {user.pk: Decimal("0") for user in bettors}
        expected_total = Decimal("0")
        for bet in Bet.objects.filter(match_id=match.pk):
            if result == "void":
                owed = bet.stake
            elif bet.selection == result:
                owed = (bet.stake * bet.odds).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            else:
                owed = Decimal("0.00")
            assert bet.status != BetStatus.OPEN and bet.payout == owed
            expected_by_user[bet.user_id] += owed - bet.stake
            expected_total += owed

        returns = LedgerEntry.objects.filter(bet__match_id=match.pk, kind__in=[LedgerKind.PAYOUT, LedgerKind.REFUND])
        paid_by_ledger = sum((entry.amount for entry in returns), Decimal("0"))
        assert paid_by_ledger == sum(
            (b.payout or Decimal("0") for b in Bet.objects.filter(match_id=match.pk)), Decimal("0")
        )
        for user in bettors:
            assert Wallet.objects.get(user_id=user.pk).balance == CREDIT + expected_by_user[user.pk]
        assert ledger_audit() == []
