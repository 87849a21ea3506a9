"""Settings for the test suite."""

import os
import secrets
from urllib.parse import urlparse

# --- Keys ---------------------------------------------------------------------
# Random per run, unless given: set in the environment before the local settings read it, so
# they never touch the checkout's key file, and the processes the suite starts (the integration
# harness) sign and check tokens with the same keys as the tests that mint them.
for _name in ("SECRET_KEY", "JWT_SIGNING_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(50))

from config.redis_topology import broker_url, cache_settings  # noqa: E402
from config.settings import base  # noqa: E402
from config.settings.local import *  # noqa: E402, F403
from config.settings.local import env  # noqa: E402

DEBUG = False
# As deployed: no HTTP Basic (the local settings add it for DEBUG).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_AUTHENTICATION_CLASSES": base.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
}
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A test run gets its own pub/sub namespace so it never sees another run's events.
REALTIME_PREFIX = env("REALTIME_PREFIX", default=f"oddstream-test-{env.int('TEST_REDIS_DB', default=15)}")

# --- Redis --------------------------------------------------------------------
# The suite uses a real Redis, in its own database number (TEST_REDIS_DB, default 15) so
# it never touches the data of a `make run` on the same machine.
_redis = urlparse(env("REDIS_URL", default="redis://127.0.0.1:6379/0"))
REDIS_URL = _redis._replace(path=f"/{env.int('TEST_REDIS_DB', default=15)}").geturl()
# With REDIS_SENTINELS set, the same database number on the primary the sentinels name.
_sentinels, _master = base.REDIS_SENTINELS, base.REDIS_SENTINEL_MASTER
CACHES = {"default": cache_settings(REDIS_URL, _sentinels, _master, base._PLAIN_REDIS_CACHE)}
CELERY_BROKER_URL = broker_url(REDIS_URL, _sentinels)
# In-process tests run tasks inline; the integration tests start a real worker instead.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)

# --- Database -----------------------------------------------------------------
# Close connections after each use, so a thread that served an async test leaves no session
# behind to block the test database's teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
