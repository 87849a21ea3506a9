"""Settings shared by every role (local, test, production)."""

from datetime import timedelta
from decimal import Decimal

import django_stubs_ext

from config.env import BASE_DIR, env

# Lets annotations such as `ModelAdmin[Match]` and `QuerySet[Bet]` run, not just type-check.
django_stubs_ext.monkeypatch()

# --- Core ---------------------------------------------------------------------
DEFAULT_SECRET_KEY = "insecure-local-only-secret-key-change-me"
SECRET_KEY = env("SECRET_KEY", default=DEFAULT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications -------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",  # first, so `runserver` serves ASGI (HTTP and WebSocket)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "channels",
    "betting",
    "realtime",
    "workers",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite by default (embedded mode); PostgreSQL in production via DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two concurrent bets queue on
    # the busy timeout instead of failing with "database is locked" when they upgrade a read
    # lock. WAL lets readers (the pages, the worker) proceed while a bet is being written.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

# --- Redis: broker, real-time streams, cache ----------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "oddstream",
    }
}

# --- Real-time delivery -------------------------------------------------------
# Prefix of every Redis pub/sub channel and presence key. Pub/sub is not scoped by Redis
# database number, so two deployments (or two test runs) sharing one Redis need
# different prefixes.
REALTIME_PREFIX = env("REALTIME_PREFIX", default="oddstream")
REALTIME_HEARTBEAT_SECONDS = env.float("REALTIME_HEARTBEAT_SECONDS", default=15.0)
# A socket whose unsent bytes (Twisted's write buffer) pass HIGH gets only the newest frame
# per match until they fall under LOW; one that stays above HIGH for SLOW_CLOSE seconds, or
# holds more than OUTBOX_MAX frames that cannot be conflated, is closed with 4408.
REALTIME_BACKLOG_HIGH_BYTES = env.int("REALTIME_BACKLOG_HIGH_BYTES", default=64 * 1024)
REALTIME_BACKLOG_LOW_BYTES = env.int("REALTIME_BACKLOG_LOW_BYTES", default=16 * 1024)
REALTIME_SLOW_CLOSE_SECONDS = env.float("REALTIME_SLOW_CLOSE_SECONDS", default=10.0)
REALTIME_OUTBOX_MAX_FRAMES = env.int("REALTIME_OUTBOX_MAX_FRAMES", default=256)
# Kernel send buffer per socket (0 = kernel autotuning, up to tcp_wmem max).
REALTIME_SOCKET_SNDBUF = env.int("REALTIME_SOCKET_SNDBUF", default=64 * 1024)
# Client frames: a token bucket per socket; bad frames spend a second, smaller budget and
# a socket that exhausts it is closed with 4429.
REALTIME_CLIENT_FRAMES_PER_SECOND = env.float("REALTIME_CLIENT_FRAMES_PER_SECOND", default=10.0)
REALTIME_CLIENT_FRAMES_BURST = env.int("REALTIME_CLIENT_FRAMES_BURST", default=30)
REALTIME_BAD_FRAMES_BURST = env.int("REALTIME_BAD_FRAMES_BURST", default=20)
REALTIME_MAX_SUBSCRIPTIONS = env.int("REALTIME_MAX_SUBSCRIPTIONS", default=200)
# Presence: each web process refreshes its socket counts in Redis this often; a process that
# stops refreshing (killed) drops out of the totals after the TTL.
REALTIME_PRESENCE_REFRESH_SECONDS = env.float("REALTIME_PRESENCE_REFRESH_SECONDS", default=5.0)
REALTIME_PRESENCE_TTL_SECONDS = env.float("REALTIME_PRESENCE_TTL_SECONDS", default=15.0)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None  # tasks report through the database and the streams
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SEND_SENT_EVENT = True  # Flower shows queued tasks, not only running ones
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TIMEZONE = "UTC"

# --- Odds pipeline ------------------------------------------------------------
ODDS_MARGIN = Decimal(env("ODDS_MARGIN", default="0.05"))
ODDS_PRIOR_LIQUIDITY = Decimal(env("ODDS_PRIOR_LIQUIDITY", default="2000"))
ODDS_RECONCILE_SECONDS = env.float("ODDS_RECONCILE_SECONDS", default=30.0)
BET_MIN_STAKE = Decimal(env("BET_MIN_STAKE", default="0.10"))
BET_MAX_STAKE = Decimal(env("BET_MAX_STAKE", default="10000.00"))

# --- Django REST framework ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "COERCE_DECIMAL_TO_STRING": True,
}

# --- Internationalisation and time --------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Authentication -----------------------------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "betting": {"level": LOG_LEVEL},
        "realtime": {"level": LOG_LEVEL},
        "workers": {"level": LOG_LEVEL},
    },
}
