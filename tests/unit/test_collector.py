"""The garbage-collector settings for the process holding the sockets (realtime/collector.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from realtime.collector import collector_tune_for_sockets


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_loaded_application_is_frozen_and_the_thresholds_raised(settings, restored_collector) -> None:
    settings.REALTIME_GC_THRESHOLDS = [50000, 20, 100]
    assert collector_tune_for_sockets() == (50000, 20, 100)
    assert gc.get_threshold() == (50000, 20, 100)
    assert gc.get_freeze_count() > 10_000  # Django and everything imported


def test_empty_thresholds_leave_the_collector_alone(settings, restored_collector) -> None:
    settings.REALTIME_GC_THRESHOLDS = []
    before = gc.get_threshold()
    assert collector_tune_for_sockets() is None
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_importing_the_asgi_application_outside_daphne_changes_nothing(restored_collector) -> None:
    before = gc.get_threshold()
    import config.asgi  # noqa: F401

    assert gc.get_threshold() == before
