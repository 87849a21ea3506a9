"""What must hold after every fault, and how long it took to hold again."""

from __future__ import annotations

import time

from tests.integration.faults.load import BetLoad, OddsWatchers
from tests.integration.faults.stack import FaultStack, wait_until

RECOVERIES: list[str] = []  # one line per test, printed in the terminal summary
CATCH_UP_SECONDS = 90  # past the pending flag's 60 s TTL, so a stale flag shows as slow, not as lost


def assert_recovered(
    name: str,
    stack: FaultStack,
    load: BetLoad,
    watchers: OddsWatchers,
    matches: list[int],
    fault_ended: float,
) -> tuple[float, float]:
    """After the fault and the end of the load: every committed bet counted in the odds,
    every socket on the latest version, the ledger clean, no 500. Records the recovery time;
    returns when (time.monotonic()) the odds counted every bet and every socket had them."""
    load.stop()
    load_ended = time.monotonic()
    states: dict[int, dict[str, int]] = {}

    def database_caught_up() -> bool:
        states.update(stack.match_states(matches))
        return all(s["taken"] == s["counted"] == s["rows"] for s in states.values())

    assert wait_until(database_caught_up, CATCH_UP_SECONDS) is not None, (
        f"odds never counted every bet: {states}\n{stack.log_tails()}"
    )
    database_at = time.monotonic()
    latest = {match: state["version"] for match, state in states.items()}
    assert wait_until(lambda: watchers.on_versions(latest), 30) is not None, (
        f"sockets not on the latest versions {latest}: {watchers.report()}\n{stack.log_tails()}"
    )
    sockets_at = time.monotonic()

    taken = sum(s["taken"] for s in states.values())
    report = watchers.report()
    since = max(fault_ended, load_ended)  # the fault is over and no more bets arrive
    restarts = f"; restarted by the supervisor: {stack.restarts}" if stack.restarts else ""
    stack.restarts.clear()
    line = (
        f"{name}: {taken} bets committed ({load.accepted} answered 201); recovered "
        f"{database_at - since:.1f} s after the fault and the last bet (odds count every bet), "
        f"{sockets_at - since:.1f} s (all {report['sockets']} sockets on the latest version; "
        f"{report['reconnects']} reconnects, {report['gaps']} gaps); answers {load.summary()}{restarts}"
    )
    RECOVERIES.append(line)
    print("\n" + line)

    assert taken >= load.accepted, "a bet answered 201 is missing from the database"
    assert stack.manage("audit_ledger").startswith("Ledger audit passed")
    # A dependency down answers 503 with Retry-After; anything else but 201 is a bug.
    unexpected = {code: n for code, n in load.statuses.items() if code not in (201, 503)}
    assert not unexpected, f"answers other than 201 and 503: {unexpected} {load.server_errors}"
    assert not load.errors["503 without Retry-After"]
    return database_at, sockets_at
