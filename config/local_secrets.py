"""The keys of one checkout, generated on its first run and kept in an untracked file.

`make run` (and any `manage.py` under the local settings) reads SECRET_KEY, JWT_SIGNING_KEY and
Flower's password from `.run/local-secrets.env` (LOCAL_SECRETS_FILE), writing random ones
there the first time. No key lives in the repository: a key published there signs anyone's
sessions and staff tokens (a forged admin token once closed and settled a match). The
environment wins over the file, and the production settings never read it.

`python -m config.local_secrets NAME` prints one value (creating the file if need be): the
Makefile uses it for Flower's password.
"""

import fcntl
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from config.env import BASE_DIR, env

GENERATED: dict[str, Callable[[], str]] = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "JWT_SIGNING_KEY": lambda: secrets.token_urlsafe(50),
    "FLOWER_PASSWORD": lambda: secrets.token_urlsafe(18),
}
HEADER = "# Keys of this checkout, made by its first `make run` (config/local_secrets.py). Never commit.\n"


def local_secrets_path() -> Path:
    return Path(env("LOCAL_SECRETS_FILE", default=str(BASE_DIR / ".run" / "local-secrets.env")))


def parse(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def local_secrets(path: Path | None = None) -> dict[str, str]:
    """The checkout's keys, adding any missing ones. Several processes starting at once (honcho
    starts them together) agree: the file is read and completed under an exclusive lock."""
    path = path or local_secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "r+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        values = parse(file.read())
        missing = {name: make() for name, make in GENERATED.items() if not values.get(name)}
        if missing:
            values |= missing
            file.seek(0)
            file.truncate()
            file.write(HEADER + "".join(f"{name}={value}\n" for name, value in values.items()))
            file.flush()
            os.fsync(file.fileno())
    return values


if __name__ == "__main__":
    print(local_secrets()[sys.argv[1]] if len(sys.argv) > 1 else local_secrets_path())
