"""A database of a benchmark's own, migrated for it and dropped after it."""

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections
from django.test.utils import setup_databases, teardown_databases


@contextmanager
def own_database(name: str) -> Iterator[None]:
    """A temporary SQLite file, or a new PostgreSQL database when DATABASE_URL names
    PostgreSQL: a name of its own, so it never meets a test run's database on the same server."""
    database = connections["default"].settings_dict
    with tempfile.TemporaryDirectory() as scratch:
        if database["ENGINE"].endswith("sqlite3"):
            database["TEST"]["NAME"] = str(Path(scratch) / f"{name}.sqlite3")
        else:
            database["TEST"]["NAME"] = f"oddstream_bench_{uuid.uuid4().hex[:10]}"
        created = setup_databases(verbosity=0, interactive=False)
        try:
            yield
        finally:
            teardown_databases(created, verbosity=0)
