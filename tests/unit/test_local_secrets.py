"""The local settings (`make run`) sign with keys of the checkout's own, generated into an
untracked file on first use and kept; never with a key found in the repository."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.local_secrets import local_secrets, parse

ROOT = Path(__file__).resolve().parents[2]
PRINT_KEYS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECRET_KEY); print(s.SIMPLE_JWT['SIGNING_KEY'])"
)


def local_keys(secrets_file: Path) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "JWT_SIGNING_KEY")}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "LOCAL_SECRETS_FILE": str(secrets_file)}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_KEYS], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def tracked_text() -> str:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return "\n".join((ROOT / name).read_text(errors="ignore") for name in files if (ROOT / name).is_file())


@pytest.mark.db_independent
def test_the_local_settings_sign_with_keys_found_nowhere_in_the_repository(tmp_path) -> None:
    secrets_file = tmp_path / "local-secrets.env"
    secret_key, jwt_key = local_keys(secrets_file)
    assert len(secret_key) >= 50 and len(jwt_key) >= 50 and secret_key != jwt_key
    repository = tracked_text()
    assert secret_key not in repository and jwt_key not in repository
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


@pytest.mark.db_independent
def test_two_loads_keep_the_same_keys_and_two_checkouts_differ(tmp_path) -> None:
    first = local_keys(tmp_path / "one.env")
    assert local_keys(tmp_path / "one.env") == first
    assert set(local_keys(tmp_path / "other.env")).isdisjoint(first)


def test_the_file_is_untracked_and_the_environment_wins(tmp_path, monkeypatch) -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".run/local-secrets.env"], cwd=ROOT, timeout=30)
    assert ignored.returncode == 0
    secrets_file = tmp_path / "s.env"
    secrets_file.write_text("SECRET_KEY=mine-from-before\n")
    values = local_secrets(secrets_file)  # completes what is missing, keeps what is there
    assert values["SECRET_KEY"] == "mine-from-before" and len(values["FLOWER_PASSWORD"]) >= 20
    assert parse(secrets_file.read_text()) == values


@pytest.mark.parametrize("name", ["base.py", "local.py", "production.py"])
def test_no_settings_file_holds_a_key(name) -> None:
    text = (ROOT / "config" / "settings" / name).read_text()
    assert "insecure" not in text and "change-me" not in text


def test_flower_gets_a_generated_password_not_a_published_one() -> None:
    procfile = (ROOT / "Procfile").read_text()
    assert "ops-password" not in procfile and "${FLOWER_BASIC_AUTH:?" in procfile
    makefile = (ROOT / "Makefile").read_text()
    assert "ops-password" not in makefile and "config.local_secrets FLOWER_PASSWORD" in makefile
