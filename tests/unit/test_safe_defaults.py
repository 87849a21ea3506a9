"""Safe defaults: the server entry points run production settings, which refuse weak keys,
turn on TLS protections and pass `check --deploy` without a warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]


def good_key() -> str:
    return secrets.token_urlsafe(48)  # 64 characters


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "JWT_SIGNING_KEY")
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "ALLOWED_HOSTS": "oddstream.example", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.db_independent
@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_server_entry_points_default_to_production_and_refuse_the_default_key(module) -> None:
    refused = run_python(f"import {module}")
    assert refused.returncode != 0
    assert "Set SECRET_KEY" in refused.stderr
    started = run_python(
        f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        SECRET_KEY=good_key(),
        JWT_SIGNING_KEY=good_key(),
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["config.settings.production", "False"]


@pytest.mark.db_independent
def test_the_celery_app_defaults_to_production() -> None:
    result = run_python("import os, workers.celery; print(os.environ['DJANGO_SETTINGS_MODULE'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config.settings.production"


@pytest.mark.db_independent
def test_manage_py_stays_local() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SETTINGS_MODULE)",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "config.settings.local", result.stderr


@pytest.mark.parametrize(
    ("secret", "jwt", "refused"),
    [
        ("short", "jwt-is-fine", "SECRET_KEY"),
        ("x" * 32 + "abcdefghij1234567", "jwt-is-fine", "SECRET_KEY"),  # 49 characters
        ("insecure-local-only-secret-key-change-me", "jwt-is-fine", "SECRET_KEY"),
        ("secret-is-fine", "insecure-local-only-jwt-signing-key-change-me", "JWT_SIGNING_KEY"),
        ("secret-is-fine", "", "JWT_SIGNING_KEY"),
        ("same", "same", "must differ"),
    ],
)
@pytest.mark.db_independent
def test_production_refuses_default_short_or_shared_keys(secret, jwt, refused) -> None:
    key = good_key()
    secret = key if secret == "secret-is-fine" else secret
    jwt = good_key() if jwt == "jwt-is-fine" else jwt
    if refused == "must differ":
        secret = jwt = key
    env = {"SECRET_KEY": secret, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    if jwt:
        env["JWT_SIGNING_KEY"] = jwt
    result = run_python("import django; django.setup()", **env)
    assert result.returncode != 0
    assert refused in result.stderr


@pytest.mark.db_independent
def test_check_deploy_is_clean_under_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": good_key(),
            "JWT_SIGNING_KEY": good_key(),
            "ALLOWED_HOSTS": "oddstream.example",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.db_independent
def test_production_turns_on_tls_protections() -> None:
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_PROXY_SSL_HEADER == ('HTTP_X_FORWARDED_PROTO', 'https'), 'BasicAuthentication' in "
        "str(s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES']))",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=good_key(),
        JWT_SIGNING_KEY=good_key(),
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "True", "False"], result.stderr


@pytest.mark.db_independent
@pytest.mark.django_db
def test_demo_data_refuses_to_load_under_production_settings() -> None:
    from django.contrib.auth.models import User

    with override_settings(DEMO_DATA_ALLOWED=False), pytest.raises(CommandError, match="never loaded"):
        call_command("load_demo_data")
    assert not User.objects.filter(username="admin@oddstream.local").exists()


@pytest.mark.django_db
def test_a_token_signed_with_the_secret_key_is_refused(api_client) -> None:
    """The JWT key is its own: knowing SECRET_KEY (sessions, reset links) mints no token."""
    import jwt
    from django.conf import settings

    from betting.tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    forged = jwt.encode(
        {"token_type": "access", "user_id": str(staff.pk), "exp": 4102444800, "jti": "x"},
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


@pytest.mark.django_db
def test_password_reset_never_returns_the_token_without_debug(api_client) -> None:
    from betting.tests.factories import UserFactory

    user = UserFactory()
    reply = api_client.post("/api/auth/password-reset/", {"email": user.email}, format="json")
    assert reply.status_code == 202
    assert set(reply.json()) == {"detail"}


@pytest.mark.db_independent
def test_the_signup_credit_is_a_demo_feature_off_outside_the_local_settings() -> None:
    """No e-mail check guards sign-up: a credit there is free money for a script."""
    from config.settings import base, local

    assert not base.WALLET_SIGNUP_CREDIT
    assert str(local.WALLET_SIGNUP_CREDIT) == "1000.00"  # `make run`'s demo
    result = run_python(
        "import django; django.setup(); from django.conf import settings; print(settings.WALLET_SIGNUP_CREDIT)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=good_key(),
        JWT_SIGNING_KEY=good_key(),
    )
    assert result.stdout.strip() == "0.00", result.stderr


@pytest.mark.django_db
def test_a_new_account_gets_no_money_without_the_demo_credit(api_client, settings) -> None:
    from decimal import Decimal

    from config.settings import base

    settings.WALLET_SIGNUP_CREDIT = base.WALLET_SIGNUP_CREDIT
    reply = api_client.post("/api/auth/register/", {"email": "script@example.com", "password": "a-long-passphrase-1"})
    assert reply.status_code == 201, reply.content
    assert Decimal(reply.json()["balance"]) == 0
