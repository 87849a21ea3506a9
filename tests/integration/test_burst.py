"""A burst of 1,000 bets on one match through the real pipeline: bounded recomputes, every bet counted."""

import pytest

from tests.integration.burst import run_burst_process
from tests.integration.harness import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def worker(stack: Stack) -> Stack:
    stack.start_worker()
    return stack


@pytest.mark.parametrize(
    "per_transaction",
    [
        pytest.param(1, id="bet_place-per-bet"),
        pytest.param(10, id="10-bets-per-transaction-1000-per-second"),
    ],
)
def test_burst_of_bets_gives_bounded_recomputes_and_last_publish_counts_every_bet(
    worker: Stack, per_transaction: int
) -> None:
    result = run_burst_process(worker, bets=1000, seconds=1.0, per_transaction=per_transaction)
    print(f"\nburst: {result | {'versions_bets_counted': '...'}}")

    assert result["last_published_bets"] == 1000, result
    assert result["last_bet_to_publish_ms"] is not None
    counted = result["versions_bets_counted"]
    assert counted[-1] == 1000
    assert counted == sorted(set(counted))  # each version counts strictly more bets
    # Coalescing with a minimum interval between starts: at most burst / interval + 2 runs.
    assert 1 <= result["recompute_runs"] <= result["bound"], result
    assert result["versions"] <= result["recompute_runs"]
