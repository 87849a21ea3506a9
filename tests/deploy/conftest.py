"""The deployment files are checked as files: no database, no Redis."""

import pytest


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Replaces the suite's cache clearing: these tests touch no cache (and need no Redis)."""
