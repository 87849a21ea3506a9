"""Property: over any bets on any market and any final score, what settlement pays is what the
ledger says."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from betting.engine.markets import grade, settlement_amount
from betting.errors import StakeTooHigh
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, MatchStatus, Wallet
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import match_bets_settle, match_transition
from betting.tests.factories import MatchFactory, UserFactory

CREDIT = Decimal("100000.00")

SELECTIONS = [
    ("1x2", "home"),
    ("1x2", "draw"),
    ("1x2", "away"),
    ("double_chance", "home_or_draw"),
    ("draw_no_bet", "away"),
    ("over_under_2_5", "over"),
    ("over_under_0_5", "under"),
    ("both_teams_to_score", "no"),
    ("correct_score", "2-1"),
    ("correct_score", "other"),
]
bet_strategy = st.tuples(
    st.integers(min_value=0, max_value=3),  # which bettor
    st.sampled_from(SELECTIONS),
    st.integers(min_value=10, max_value=500_000).map(lambda cents: Decimal(cents) / 100),  # 0.10 to 5000.00
)
outcome_strategy = st.one_of(
    st.just("void"), st.tuples(st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=6))
)


class SettlementLedgerProperties(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(bets=st.lists(bet_strategy, max_size=12), result=outcome_strategy)
    def test_payouts_and_refunds_equal_the_ledger(self, bets: list, result: str | tuple[int, int]) -> None:
        bettors = [UserFactory(wallet=CREDIT) for _ in range(4)]
        match = MatchFactory()
        for bettor, (market, selection), stake in bets:
            try:
                bet_place(
                    user=bettors[bettor],
                    match_id=match.pk,
                    market=market,
                    selection=selection,
                    stake=stake,
                    accept_odds_change="any",
                )
            except StakeTooHigh:
                continue  # above what the market's liability limit allows: refused, nothing written

        if result == "void":
            match_transition(match_id=match.pk, status=MatchStatus.VOID)
        else:
            match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
            match_transition(match_id=match.pk, status=MatchStatus.SETTLED, score=result)
        # The test transaction never commits, so the on-commit task does not run: run it
        # here, twice, as a redelivered task would.
        match_bets_settle(match_id=match.pk)
        assert match_bets_settle(match_id=match.pk) == 0

        expected_by_user: dict[int, Decimal] = {user.pk: Decimal("0") for user in bettors}
        expected_total = Decimal("0")
        for bet in Bet.objects.filter(match_id=match.pk):
            if result == "void":
                owed = bet.stake
            else:
                owed = settlement_amount(grade(bet.market, bet.selection, *result), bet.stake, bet.odds)
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
