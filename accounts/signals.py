"""Credential changes end the user's WebSockets on every web process, whichever path made
them: the API, the pages, the admin, a shell. A signal is the one place all of them pass.

- `user_logged_out` (a session sign-out);
- (and `user_logged_in` records when a page session began, for the reality check);
- a saved password change (`set_password` then `save`, as the reset, the admin and
  `changepassword` do) or a deactivation (`is_active` saved False). The previous values are
  read before the save, and the sockets are closed after the transaction commits.

(`QuerySet.update()` sends no signal: deactivate users through `save()`.)

And a break (`safergambling.signals.break_started`: a time-out or a self-exclusion) ends every
session of the account: its page sessions, its refresh tokens and its sockets.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.sessions import user_sessions_end
from realtime.credentials import user_sockets_close_on_commit
from safergambling.models import Restriction
from safergambling.reality_check import SESSION_STARTED_KEY
from safergambling.signals import break_started

CREDENTIAL_FIELDS = frozenset({"password", "is_active"})
PENDING_ATTRIBUTE = "_sockets_close_reason"


@receiver(user_logged_in, dispatch_uid="accounts.session_start_record")
def session_start_record(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    """When the page session began: the reality check counts time spent and results from it."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_STARTED_KEY] = timezone.now().isoformat()


@receiver(user_logged_out, dispatch_uid="accounts.sockets_close_on_logout")
def sockets_close_on_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        user_sockets_close_on_commit(user_id=user.pk, reason="signed out")


def credential_change(user: User, update_fields: Any) -> str | None:
    """Why saving `user` ends its credentials (password changed, deactivated), or None."""
    if user.pk is None or (update_fields is not None and not CREDENTIAL_FIELDS & set(update_fields)):
        return None
    before = User.objects.filter(pk=user.pk).values("password", "is_active").first()
    if before is None:
        return None
    if before["password"] != user.password:
        return "password changed"
    if before["is_active"] and not user.is_active:
        return "account deactivated"
    return None


@receiver(pre_save, sender=User, dispatch_uid="accounts.credential_change_read")
def credential_change_read(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    setattr(instance, PENDING_ATTRIBUTE, credential_change(instance, update_fields))


@receiver(post_save, sender=User, dispatch_uid="accounts.sockets_close_on_credential_change")
def sockets_close_on_credential_change(sender: Any, instance: User, **kwargs: Any) -> None:
    reason = instance.__dict__.pop(PENDING_ATTRIBUTE, None)
    if reason is not None:
        user_sockets_close_on_commit(user_id=instance.pk, reason=reason)


@receiver(break_started, sender=Restriction, dispatch_uid="accounts.sessions_end_on_break")
def sessions_end_on_break(sender: Any, user: User, reason: str, **kwargs: Any) -> None:
    """Safer gambling sends this inside the transaction that starts the break; the sessions end
    in it (the sockets close once it commits). Received here, not called from there: accounts
    stands above safer gambling (docs/architecture.md)."""
    user_sessions_end(user=user, reason=reason)
