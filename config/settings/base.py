"""Settings shared by every role (local, test, production)."""

import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import django_stubs_ext
from csp.constants import NONE, SELF

from config.env import BASE_DIR, env
from config.redis_topology import broker_transport_options, broker_url, cache_settings, parse_sentinels

# Lets annotations such as `ModelAdmin[Match]` and `QuerySet[Bet]` run, not just type-check.
django_stubs_ext.monkeypatch()

# --- Core ---------------------------------------------------------------------
# No key has a default here: one in the repository would be everyone's. The local settings
# generate them per checkout (config/local_secrets.py); production refuses to start without.
SECRET_KEY = env("SECRET_KEY", default="")
# Access tokens are signed with their own key: a leaked SECRET_KEY (sessions, reset links)
# does not let anyone mint API tokens, nor the other way round.
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
# Channels' layer is the project's hub (realtime/layer.py); its Redis and prefix are
# REDIS_URL and REALTIME_PREFIX, read when it is first used. ROUTES: the modules that
# declare fast-path groups.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "realtime.layer.HubChannelLayer",
        "CONFIG": {
            "routes": ["realtime.streams", "betting.streams", "blog.streams"],
            "capacity": 100,
            "group_expiry": 86400,
        },
    }
}
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
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files (SPECTACULAR_SETTINGS)
    "channels",
    "accounts",
    "betting",
    "inplay",
    "blog",
    "payments",
    "safergambling",
    "history",
    "realtime",
    "workers",
    "frontend",
    "ops",
    "teammodel",
]

MIDDLEWARE = [
    "ops.middleware.RequestIdMiddleware",  # first: everything after it logs with the request's id
    "django.middleware.security.SecurityMiddleware",
    # TRACE and unknown methods refused (405); Permissions-Policy on every response, static too.
    "config.http_hardening.HttpHardeningMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.SameHostWebSocketCSPMiddleware",  # CONTENT_SECURITY_POLICY below
    # A Redis or database outage becomes a 503 with Retry-After, never a 500.
    "config.middleware.DependencyUnavailableMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429.
    "axes.middleware.AxesMiddleware",
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

# --- Browser features -----------------------------------------------------------
# Sent as Permissions-Policy on every response (config/http_hardening.py): the pages use none
# of these features, so neither they nor anything they embed may ask for them. Empty: not sent.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "bluetooth", "camera", "display-capture", "encrypted-media",
        "fullscreen", "geolocation", "gyroscope", "hid", "idle-detection", "magnetometer", "microphone",
        "midi", "payment", "picture-in-picture", "publickey-credentials-get", "screen-wake-lock",
        "serial", "usb", "web-share", "xr-spatial-tracking",
    )
)  # fmt: skip

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
elif "daphne.cli" in sys.modules or env.bool("ODDSTREAM_ASGI_SERVER", default=False):
    # Under ASGI each HTTP request runs in a thread of its own, so a persistent connection is
    # never reused: it stays open until the garbage collector frees its thread's state (later
    # still with realtime/collector.py's thresholds), and PostgreSQL runs out of connections.
    # Django's docs: disable persistent connections under ASGI. (Consumers' database calls
    # close theirs too.) `python -m config.daphne` reads the settings before it imports
    # Daphne's command line, so it says what it is in ODDSTREAM_ASGI_SERVER.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

# --- Redis: broker, real-time streams, cache ----------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Redis Sentinel (docs/configuration.md): with sentinels given ("host:port,host:port"), every
# client (cache, broker, hub, publisher, presence, revocations) connects to the primary they
# name REDIS_SENTINEL_MASTER, and follows a failover; REDIS_URL then gives only the database
# number and the password. Empty: the one Redis at REDIS_URL.
REDIS_SENTINELS = parse_sentinels(env.list("REDIS_SENTINELS", default=[]))
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="oddstream")

# Django's Redis cache, or django-redis's Sentinel client when REDIS_SENTINELS is set.
_PLAIN_REDIS_CACHE = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "KEY_PREFIX": "oddstream",
    # A Redis that does not answer costs a request at most this long, then a 503 or the
    # use's fail-open path (docs/security.md), instead of a worker stuck on a socket.
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}
CACHES = {"default": cache_settings(REDIS_URL, REDIS_SENTINELS, REDIS_SENTINEL_MASTER, _PLAIN_REDIS_CACHE)}

# --- Real-time delivery -------------------------------------------------------
# Prefix of every Redis pub/sub channel and presence key. Pub/sub is not scoped by Redis
# database number, so two deployments (or two test runs) sharing one Redis need
# different prefixes.
REALTIME_PREFIX = env("REALTIME_PREFIX", default="oddstream")
# "redis": PUBLISH to the web processes; "memory": keep events in the process (the fast
# unit run, which has no Redis).
REALTIME_PUBLISHER = "redis"
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
# Under Daphne: the garbage collector's thresholds after freezing the loaded application
# (realtime/collector.py); empty keeps Python's defaults.
REALTIME_GC_THRESHOLDS = [int(n) for n in env.list("REALTIME_GC_THRESHOLDS", default=["50000", "20", "100"]) if n]
# Under Daphne: ready sockets handled per turn of the event loop (realtime/eventloop.py), so a
# burst of thousands of disconnects is spread over many short turns; 0 keeps asyncio's loop.
REALTIME_LOOP_MAX_EVENTS = env.int("REALTIME_LOOP_MAX_EVENTS", default=16)
# The longest a walk over every socket of a web process holds its event loop before it lets the
# rest run (Daphne's reaping and timeout walks, realtime/daphne_server.py; the heartbeat), in
# milliseconds; 0 walks in one go (Daphne's own walks, the heartbeat yielding every 1,000 sockets).
REALTIME_WALK_SLICE_MS = env.float("REALTIME_WALK_SLICE_MS", default=5.0)
# Client frames: a token bucket per socket; bad frames spend a second, smaller budget and
# a socket that exhausts it is closed with 4400.
REALTIME_CLIENT_FRAMES_PER_SECOND = env.float("REALTIME_CLIENT_FRAMES_PER_SECOND", default=10.0)
REALTIME_CLIENT_FRAMES_BURST = env.int("REALTIME_CLIENT_FRAMES_BURST", default=30)
REALTIME_BAD_FRAMES_BURST = env.int("REALTIME_BAD_FRAMES_BURST", default=20)
# Checks that may keep a signed-in socket from its private events (user id -> reason or None):
# during a time-out or a self-exclusion the socket opens with public streams only.
REALTIME_PRIVATE_FEED_CHECKS = ["safergambling.selectors.private_feed_refusal"]
REALTIME_MAX_SUBSCRIPTIONS = env.int("REALTIME_MAX_SUBSCRIPTIONS", default=200)
# Sockets one signed-in user, and one client IP, may hold open on each web process (0: no
# cap); one more is refused with 4429. Per process: see realtime/caps.py.
REALTIME_MAX_SOCKETS_PER_USER = env.int("REALTIME_MAX_SOCKETS_PER_USER", default=20)
REALTIME_MAX_SOCKETS_PER_IP = env.int("REALTIME_MAX_SOCKETS_PER_IP", default=200)
# Presence: each web process refreshes its socket counts in Redis this often; a process that
# stops refreshing (killed) drops out of the totals after the TTL.
REALTIME_PRESENCE_REFRESH_SECONDS = env.float("REALTIME_PRESENCE_REFRESH_SECONDS", default=5.0)
REALTIME_PRESENCE_TTL_SECONDS = env.float("REALTIME_PRESENCE_TTL_SECONDS", default=15.0)
# Incoming WebSocket frame and message cap of every Daphne: `python -m config.daphne` (which
# every deployment runs) passes them as --websocket-max-*-size, `manage.py runserver` reads them.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = 64 * 1024
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = 64 * 1024
# Behind the proxy (`--proxy-headers`), Daphne takes the client's address from this header, which
# nginx sets to the connection's address (deploy/nginx/snippets/oddstream-proxy.conf). Never
# X-Forwarded-For: Daphne reads its leftmost entry, which the client writes, and the per-address
# socket cap (REALTIME_MAX_SOCKETS_PER_IP) counts by that address.
DAPHNE_PROXY_ADDRESS_HEADER = "X-Real-IP"

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=broker_url(REDIS_URL, REDIS_SENTINELS))
CELERY_RESULT_BACKEND = None  # tasks report through the database and the streams
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With sentinels, kombu's sentinel:// transport asks them for the primary named here.
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    REDIS_SENTINELS, REDIS_SENTINEL_MASTER, {"visibility_timeout": 3600}
)
CELERY_TASK_SEND_SENT_EVENT = True  # Flower shows queued tasks, not only running ones
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TIMEZONE = "UTC"
# The worker logs through LOGGING below (JSON when asked, with the request id), not its own setup.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Outages -------------------------------------------------------------------
# A request that finds Redis or the database down is a 503 with this Retry-After.
DEPENDENCY_RETRY_AFTER_SECONDS = env.int("DEPENDENCY_RETRY_AFTER_SECONDS", default=5)

# --- Odds pipeline ------------------------------------------------------------
ODDS_MARGIN = Decimal(env("ODDS_MARGIN", default="0.05"))
# The 1X2 market's margin band (docs/odds-engine.md). The band's top must sit at least 0.03
# above ODDS_MARGIN: that is what rounding three prices down the ladder can add.
ODDS_MARGIN_MAX = Decimal(env("ODDS_MARGIN_MAX", default="0.09"))
# How a trader's typed 1X2 odds lose their margin before a score distribution is fitted to them.
ODDS_MARGIN_METHOD = env("ODDS_MARGIN_METHOD", default="power")  # "power" or "shin"
# The multi-market book (docs/odds-engine.md): money moving the score distribution, and the most
# the book may lose on one market of each kind ("correct_score=5000,1x2=20000"; kinds not named
# keep the engine's defaults). The maximum stake of every selection follows from the limit.
ODDS_BOOK_LIQUIDITY = Decimal(env("ODDS_BOOK_LIQUIDITY", default="5000"))
ODDS_LIABILITY_LIMITS = {
    kind: Decimal(amount) for kind, amount in env.dict("ODDS_LIABILITY_LIMITS", default={}).items()
}
# Coalesced recomputes of one match start at least this far apart: bounds the recomputes
# (and publishes) of a burst to duration / interval + 2.
ODDS_RECOMPUTE_MIN_INTERVAL = env.float("ODDS_RECOMPUTE_MIN_INTERVAL", default=0.05)
ODDS_RECONCILE_SECONDS = env.float("ODDS_RECONCILE_SECONDS", default=30.0)
# A bet still uncounted after this long means its recompute request was lost (a worker killed
# while holding it): reconciliation enqueues one even though the pending flag is still up.
ODDS_RECOMPUTE_OVERDUE_SECONDS = env.float("ODDS_RECOMPUTE_OVERDUE_SECONDS", default=10.0)
BET_MIN_STAKE = Decimal(env("BET_MIN_STAKE", default="0.10"))
BET_MAX_STAKE = Decimal(env("BET_MAX_STAKE", default="10000.00"))
# The most legs an accumulator takes (at least 2; docs/bet-types.md#accumulators).
ACCUMULATOR_MAX_LEGS = env.int("ACCUMULATOR_MAX_LEGS", default=10)
# Cash-out (docs/bet-types.md#cash-out): the offer keeps this share of the bet's fair value for
# the house, and a quote is valid this many seconds (at most 10).
CASHOUT_MARGIN = Decimal(env("CASHOUT_MARGIN", default="0.05"))
CASHOUT_QUOTE_SECONDS = min(env.float("CASHOUT_QUOTE_SECONDS", default=10.0), 10.0)
# The most open bets whose cash-out values one recompute of a match sends (the newest first).
CASHOUT_FEED_MAX_BETS = env.int("CASHOUT_FEED_MAX_BETS", default=1000)

# `load_demo_data` (published passwords): the production settings turn it off.
DEMO_DATA_ALLOWED = True

# --- Wallets and settlement ---------------------------------------------------
# Credited to every new wallet as its first ledger entry. A demo feature (the local settings
# turn it on): with no e-mail check, any credit is free money for a script that signs up.
WALLET_SIGNUP_CREDIT = Decimal(env("WALLET_SIGNUP_CREDIT", default="0.00"))
# How long an Idempotency-Key replays the first response.
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
# How often beat closes betting on matches that kicked off, and re-enqueues unfinished settlements.
MATCH_KICKOFF_CHECK_SECONDS = env.float("MATCH_KICKOFF_CHECK_SECONDS", default=30.0)
# Bets settled per transaction: bounds how long a settlement holds wallet locks.
SETTLEMENT_BATCH_SIZE = env.int("SETTLEMENT_BATCH_SIZE", default=500)

# --- Payments -------------------------------------------------------------------
# Providers by name: BACKEND is a payments.providers.base.PaymentProvider, OPTIONS its keyword
# arguments (a provider that calls back takes its callback SECRET there). The built-in
# `instant` provider settles every deposit and withdrawal at once (the demo's).
PAYMENT_PROVIDERS = {"instant": {"BACKEND": "payments.providers.instant.InstantProvider", "OPTIONS": {}}}
PAYMENT_DEFAULT_PROVIDER = env("PAYMENT_DEFAULT_PROVIDER", default="instant")
PAYMENT_MIN_AMOUNT = Decimal(env("PAYMENT_MIN_AMOUNT", default="1.00"))
PAYMENT_MAX_AMOUNT = Decimal(env("PAYMENT_MAX_AMOUNT", default="10000.00"))

# --- Safer gambling ----------------------------------------------------------------
# Bounds of a deposit, loss or stake limit a bettor may set.
GAMBLING_LIMIT_MIN = Decimal(env("GAMBLING_LIMIT_MIN", default="1.00"))
GAMBLING_LIMIT_MAX = Decimal(env("GAMBLING_LIMIT_MAX", default="1000000.00"))
# When above 0, the reality check comes every this many seconds for every account instead of
# each account's own minutes: for demonstrations and browser tests, never in production.
REALITY_CHECK_SECONDS = env.int("REALITY_CHECK_SECONDS", default=0)

# --- In play: the match feed -------------------------------------------------
# A goal, red card or penalty suspends the match's markets; they reopen this long after.
INPLAY_REOPEN_SECONDS = env.float("INPLAY_REOPEN_SECONDS", default=10.0)
# How often beat processes feed events whose task was lost and reopens overdue markets.
INPLAY_SWEEP_SECONDS = env.float("INPLAY_SWEEP_SECONDS", default=5.0)
# In play, a bet waits this long as `pending` before a worker accepts or rejects it
# (docs/in-play.md#the-bet-delay).
INPLAY_BET_DELAY_SECONDS = env.float("INPLAY_BET_DELAY_SECONDS", default=6.0)
# A bet still undecided this long after its delay ended is rejected `timed_out`.
INPLAY_BET_DECISION_LIMIT_SECONDS = env.float("INPLAY_BET_DECISION_LIMIT_SECONDS", default=30.0)
# How often beat decides the pending bets whose delay is over (their task was lost or early).
INPLAY_BET_SWEEP_SECONDS = env.float("INPLAY_BET_SWEEP_SECONDS", default=2.0)
# What else may interrupt a bet's delay besides the match's status log: functions
# (match_id, placed_at, decide_at) -> list of (start, end | None, reason) intervals.
BET_DELAY_INTERRUPTION_SOURCES = ["inplay.selectors.bet_delay_interruptions"]
# How often beat prices every match in play again for its clock (at most a minute), and the
# most matches one run asks for (the rest wait for the next run, oldest repricing first).
INPLAY_REPRICE_SECONDS = env.float("INPLAY_REPRICE_SECONDS", default=30.0)
INPLAY_REPRICE_MAX_MATCHES = env.int("INPLAY_REPRICE_MAX_MATCHES", default=500)
# Failed feed-token checks allowed per client IP and minute (then 429).
FEED_AUTH_FAILURES_PER_MINUTE = env.int("FEED_AUTH_FAILURES_PER_MINUTE", default=20)
# The football results the replay plays (`manage.py feed_replay`): the copy shipped in the
# repository, else the shared data beside the checkout.
_FOOTBALL_DATA_DIRS = (BASE_DIR / "teammodel" / "data" / "football", BASE_DIR.parent / "shared" / "data" / "football")
FOOTBALL_DATA_DIR = Path(
    env("FOOTBALL_DATA_DIR", default=str(next((p for p in _FOOTBALL_DATA_DIRS if p.is_dir()), _FOOTBALL_DATA_DIRS[0])))
)

# --- Django REST framework ----------------------------------------------------
# The client's address: the REMOTE_ADDR, or behind NUM_PROXIES proxies that each append to
# X-Forwarded-For, the entry the outermost proxy appended (what the client sent before it is
# ignored, so a forged header buys no fresh throttle bucket). Set it to the number of
# proxies in front of Django: 0 when clients connect directly.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

REST_FRAMEWORK = {
    # JWT for API clients, the session for the pages. (HTTP Basic, which checks a password on
    # every request, is added by the local settings only while DEBUG is on.)
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous write is a 401 with `WWW-Authenticate: Bearer`, not a 403. It
        # refuses an access token issued before its user signed out (accounts/authentication.py).
        "accounts.authentication.RevocationCheckedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only: every client (the pages, the docs, scripts) sends JSON, and form or
    # multipart bodies cannot carry the nested `opening_odds`; anything else is a 415. Nested
    # deeper than JSON_MAX_DEPTH is a 400 (config/parsers.py), never the decoder's RecursionError.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.DepthLimitedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": NUM_PROXIES,
    # Counted in the Redis cache, so every web process shares one count.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("THROTTLE_AUTH", default="20/minute"),  # login, sign-up, password reset (per IP)
        # Password-reset requests and confirmations per account (e-mail or uid) and IP together;
        # never per account alone, or anyone could spend the owner's budget.
        "auth_account_ip": env("THROTTLE_AUTH_ACCOUNT_IP", default="5/hour"),
        "bets": env("THROTTLE_BETS", default="120/minute"),  # bet placement (per user)
        # Payment providers' callbacks (per IP): their signature is a credential.
        "payment_callbacks": env("THROTTLE_PAYMENT_CALLBACKS", default="600/minute"),
    },
}

# Arrays and objects nested deeper than this in a JSON body are refused (400) before decoding.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=5 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=24 * 60 * 60)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    # Tokens carry a fingerprint of the password: a password change ends them, checked in the
    # database on every request (accounts/authentication.py has the rest of the check).
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Oddstream API",
    "DESCRIPTION": "Real-time betting odds: matches, bets, wallets and settlement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Several fields are called `status`: one named enum per set of choices.
    "ENUM_NAME_OVERRIDES": {
        "SelectionEnum": "betting.models.Selection",
        "MatchStatusEnum": "betting.models.MatchStatus",
        "BetStatusEnum": "betting.models.BetStatus",
        "MatchCreateStatusEnum": "betting.api.serializers.MATCH_CREATE_STATUSES",
        "PostStatusEnum": "blog.models.PostStatus",
        "PaymentKindEnum": "payments.models.PaymentKind",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
        "LimitKindEnum": "safergambling.models.LimitKind",
        "LimitPeriodEnum": "safergambling.models.LimitPeriod",
        "RestrictionKindEnum": "safergambling.models.RestrictionKind",
        "AuditActionEnum": "safergambling.models.AuditAction",
        "FeedEventKindEnum": "inplay.api.serializers.FEED_EVENT_KINDS",
    },
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: pinned by the lock,
    # served by the project, nothing from a CDN (config/api_docs.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.document_unsupported_media_type",
    ],
}

# --- Internationalisation and time --------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Blog ---------------------------------------------------------------------
# Writes per user: every write is broadcast to every blog socket, so it is bounded.
BLOG_POST_WRITE_RATE = env("BLOG_POST_WRITE_RATE", default="30/minute")

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Content-Security-Policy ----------------------------------------------------
# Every response: scripts, styles, images, fonts and connections from the site itself only
# (config/csp.py adds the page's own WebSocket origin), no inline script or style, no plugins,
# no framing. docs/security.md, "Content-Security-Policy".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Authentication -----------------------------------------------------------
# Django's database sessions, telling WebSockets when a session is flushed or deleted.
SESSION_ENGINE = "accounts.sessions"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out address (or address at an account) before any password is hashed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes counts failed sign-ins (API token, session login, admin login) in the database and
# locks, for the cool-off and without checking the password, a client IP (failures at any
# accounts) and a client IP at one account; never an account alone, or anyone could keep its
# owner out. An account under attack (SIGN_IN_FAILURE_LIMIT failures from all addresses) is
# slowed down instead: each address may try it only SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK times
# (accounts/lockout.py).
SIGN_IN_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK = env.int("AXES_FAILURE_LIMIT_UNDER_ATTACK", default=3)
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"  # one count per account, whatever the case
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"  # the same address as the throttles
AXES_LOCKOUT_CALLABLE = "config.client_ip.lockout_response"
# The API's e-mail field and the login form's username field both reach authenticate() as `username`.
AXES_USERNAME_FORM_FIELD = "username"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Reset e-mails one account may receive per hour, whoever asks for them (an inbox-flood bound
# that never strands the owner: accounts.services.reset_mail_allowed).
PASSWORD_RESET_MAILS_PER_HOUR = env.int("PASSWORD_RESET_MAILS_PER_HOUR", default=10)
# Password-reset links point at this front end.
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL", default="http://127.0.0.1:8000/accounts/reset/{uid}/{token}/")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Oddstream <no-reply@oddstream.local>")

# --- Logging ------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (for a log shipper); plain otherwise. Every record
# carries `request_id` (ops.request_id): the HTTP request's, in the task it enqueued too.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "accounts": {"level": LOG_LEVEL},
        "betting": {"level": LOG_LEVEL},
        "inplay": {"level": LOG_LEVEL},
        "realtime": {"level": LOG_LEVEL},
        "workers": {"level": LOG_LEVEL},
        "ops": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Operations ---------------------------------------------------------------
# Prometheus sends `Authorization: Bearer <METRICS_TOKEN>` to /metrics; staff sessions also
# see it. Empty: only staff sessions do.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Where the ops page links to Flower.
FLOWER_URL = env("FLOWER_URL", default="http://127.0.0.1:5555/")

# --- Error reporting ----------------------------------------------------------
# Sentry (Django and Celery) switches on when SENTRY_DSN is set.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
