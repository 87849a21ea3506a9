"""Garbage-collector settings for the process that holds the WebSockets (Daphne).

Every open socket keeps about 170 long-lived Python objects (Twisted, autobahn, Daphne and
the consumer), so 1,000 sockets make a heap of about 250,000 objects. With CPython's default
thresholds (700, 10, 10) a full collection runs every few seconds while sockets connect and
traffic flows, and scans the whole heap: 70-230 ms during which no frame is written. Those
pauses were the whole p99 of the delivery benchmark at 1,000 sockets (130-180 ms; 32 ms with
the collector off).

So, under Daphne only:
- `gc.freeze()` once the application is loaded: Django, the URLconf and every imported module
  (about 120,000 objects) move to the permanent generation, which no collection scans;
- larger thresholds (`REALTIME_GC_THRESHOLDS`, default 50,000 / 20 / 100): temporaries of a
  fan-out die before a young collection sees them, fewer objects are promoted, and the full
  collection, which CPython also holds back until a quarter of the old objects are new, runs
  about 100 times less often.

What it costs: reference cycles that outlived two young collections (a socket that was open for
a while, then closed) are freed at the next full collection rather than within seconds: memory
rises between full collections by what closed sockets left in cycles. The process's RSS is on
/metrics (`process_resident_memory_bytes`). `REALTIME_GC_THRESHOLDS=` (empty) keeps Python's
defaults.
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def collector_tune_for_sockets() -> tuple[int, ...] | None:
    """Freeze what is loaded and apply REALTIME_GC_THRESHOLDS; the thresholds set, or None."""
    thresholds = tuple(settings.REALTIME_GC_THRESHOLDS)
    if not thresholds:
        return None
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    logger.info("GC: %s objects frozen, thresholds %s", gc.get_freeze_count(), thresholds)
    return thresholds
