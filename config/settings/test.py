"""Settings for the test suite."""

from urllib.parse import urlparse

from config.settings import base
from config.settings.local import *  # noqa: F403
from config.settings.local import env

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
CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL}}  # noqa: F405
CELERY_BROKER_URL = REDIS_URL
# In-process tests run tasks inline; the integration tests start a real worker instead.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)

# --- Database -----------------------------------------------------------------
# Close connections after each use, so a thread that served an async test leaves no session
# behind to block the test database's teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
