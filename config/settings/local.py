"""Settings for `make run` on one machine: debug on, everything embedded."""

from decimal import Decimal

from config.local_secrets import local_secrets
from config.settings.base import *  # noqa: F403
from config.settings.base import env

# --- Keys ---------------------------------------------------------------------
# From the environment, else this checkout's own, generated on first use into an untracked
# file (.run/local-secrets.env): never a key published in the repository.
SECRET_KEY = env("SECRET_KEY", default="") or local_secrets()["SECRET_KEY"]
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="") or local_secrets()["JWT_SIGNING_KEY"]
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}  # noqa: F405

DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    # Quick curl and scripts while developing; never in a deployment (a password per request).
    REST_FRAMEWORK = {
        **REST_FRAMEWORK,  # noqa: F405
        "DEFAULT_AUTHENTICATION_CLASSES": [
            *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],  # noqa: F405
            "rest_framework.authentication.BasicAuthentication",
        ],
    }
# Serve static files from the apps' folders without `collectstatic`.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# The demo's money: every new account opens with 1,000.00 to bet with (0 in production).
WALLET_SIGNUP_CREDIT = Decimal(env("WALLET_SIGNUP_CREDIT", default="1000.00"))
