"""Fixtures of the fault tests, and the summary of how long each recovery took."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.faults.load import node_with_websocket
from tests.integration.faults.recovery import RECOVERIES
from tests.integration.faults.stack import FaultStack, running_fault_stack


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    with running_fault_stack(Path(tmp_path_factory.mktemp("faults"))) as stack:
        yield stack


@pytest.fixture(scope="session")
def node() -> list[str]:
    command = node_with_websocket()
    if command is None:
        pytest.skip("node with a WebSocket (node >= 20) is needed to run the JS client against the server")
    return command


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECOVERIES:
        return
    terminalreporter.section("fault recovery")
    for line in RECOVERIES:
        terminalreporter.write_line(line)
