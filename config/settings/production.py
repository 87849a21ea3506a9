"""Settings for production: PostgreSQL, TLS at the proxy, and no default secrets.

Every server entry point (WSGI, ASGI, Celery) defaults to these settings; only manage.py
defaults to the local ones. `manage.py check --deploy` under them reports nothing.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import JWT_SIGNING_KEY, SECRET_KEY, env

DEBUG = False

# --- Keys -----------------------------------------------------------------------
# Django's own deploy check asks for 50 characters; there is no default (a key in the
# repository is public, and with it anyone could sign a session or a staff token).
MIN_KEY_LENGTH = 50
for _name, _value in (("SECRET_KEY", SECRET_KEY), ("JWT_SIGNING_KEY", JWT_SIGNING_KEY)):
    if len(_value) < MIN_KEY_LENGTH or len(set(_value)) < 5:
        raise ImproperlyConfigured(f"Set {_name} to a random value of at least {MIN_KEY_LENGTH} characters.")
if SECRET_KEY == JWT_SIGNING_KEY:
    raise ImproperlyConfigured("SECRET_KEY and JWT_SIGNING_KEY must differ.")

# --- TLS, terminated at the proxy ---------------------------------------------------
# The proxy says whether the client's connection was HTTPS; it must set (not pass through)
# X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and scrapes come from inside the network, on plain HTTP, straight to the process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Demo data ------------------------------------------------------------------
# `load_demo_data` creates accounts with published passwords: never here.
DEMO_DATA_ALLOWED = False

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
