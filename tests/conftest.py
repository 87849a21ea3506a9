from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(Path(tmp_path_factory.mktemp("stack")))
    try:
        stack.prepare()  # migrated, with the demo data
        yield stack
    finally:
        stack.close()
