"""Sessions that know their user, so that every session of one account can be ended at once
(a time-out or a self-exclusion) without reading every session in the database."""

from typing import Any

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    """Django's database session, plus the id of the user signed in with it (null: anonymous)."""

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    @classmethod
    def get_session_store_class(cls) -> Any:
        from accounts.sessions import SessionStore

        return SessionStore
