"""Settings for the fast unit run (`make test-fast`): no Redis, Daphne or Celery process.

The cache is in memory (throttles, coalescing flags), published events stay in the process,
Celery runs tasks inline with an in-memory broker, and Redis itself points at a Unix socket
nobody serves: a unit test that still reaches for Redis fails at once, and belongs under the
`redis` marker (which `make test-fast` deselects).
"""

from config.settings.test import *  # noqa: F403

# --- Redis: none --------------------------------------------------------------
REDIS_URL = "unix:///nonexistent/oddstream-test-fast/redis.sock"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REALTIME_PUBLISHER = "memory"

# --- Celery: inline -----------------------------------------------------------
# Tasks run in the test's own process; the broker (kombu's in-memory transport) is never
# reached, and ops' queue depths read as unknown, as when the broker is down.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
