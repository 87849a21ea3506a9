"""Signed-in users for `bench_disconnect`: `python -m bench.disconnect_users COUNT OUT`, run with
the stack's environment (its database and JWT key), creates COUNT users in one bulk insert (no
password hashing) and writes one JWT access token per user to OUT, one a line."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import django


def main(count: int, out: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    user_model = get_user_model()
    run = uuid.uuid4().hex[:6]
    users = user_model.objects.bulk_create(
        user_model(username=f"bench-{run}-{n}@example.com", email=f"bench-{run}-{n}@example.com", password="!")
        for n in range(count)
    )
    out.write_text("".join(f"{AccessToken.for_user(user)}\n" for user in users))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
