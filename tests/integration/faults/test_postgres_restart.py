"""PostgreSQL crashed and restarted under a stream of bets.

The machine's cluster is shared with other runs, so it is never touched: the test starts a
private cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin) on a free port, stops it
with `pg_ctl -m immediate` (a crash: the next start runs crash recovery) and starts it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.faults.stack import FaultStack, PrivateCluster, postgres_binaries, running_fault_stack
from tests.integration.faults.test_faults import DURING, Scenario, web_port

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are not installed")
    with running_fault_stack(Path(tmp_path_factory.mktemp("faults-pg")), PrivateCluster(binaries)) as stack:
        yield stack


def test_postgres_crash_and_restart_loses_no_bet(postgres_stack: FaultStack, node: list[str]) -> None:
    port = web_port(postgres_stack)
    assert postgres_stack.cluster is not None
    with Scenario(postgres_stack, node, port, [port]) as scenario:
        postgres_stack.cluster.crash()
        time.sleep(DURING)
        postgres_stack.cluster.start()
        fault_ended = time.monotonic()
        scenario.check("PostgreSQL crashed and restarted", fault_ended)
