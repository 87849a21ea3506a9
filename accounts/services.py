"""Writes of accounts: sign-up (with its wallet) and password reset.

Users are Django's `auth.User` with `username` = the lower-cased e-mail, which is what makes
an e-mail unique (and case-insensitive) without a custom user model.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.errors import EmailTaken, PasswordRejected, PasswordResetLinkInvalid
from accounts.sessions import refresh_tokens_revoke
from betting.wallets import wallet_open
from realtime.credentials import revocation_record, user_sockets_close_on_commit
from safergambling.services import limit_set

logger = logging.getLogger(__name__)


def email_normalise(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return User.objects.filter(username=email_normalise(email), is_active=True).first()


def password_check(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PasswordRejected(" ".join(exc.messages), errors={"password": list(exc.messages)}) from None


@transaction.atomic
def user_register(*, email: str, password: str, limits: Iterable[Mapping[str, Any]] = ()) -> User:
    """Create a bettor and their wallet, credited with the sign-up credit, with the
    safer-gambling limits chosen at sign-up (`{kind, period, amount}`, binding at once)."""
    email = email_normalise(email)
    candidate = User(username=email, email=email)
    password_check(password, candidate)
    if User.objects.filter(username=email).exists():
        raise EmailTaken("An account with this e-mail already exists.", errors={"email": ["Already registered."]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=email, email=email, password=password)
    except IntegrityError:  # a concurrent sign-up with the same e-mail won
        raise EmailTaken(
            "An account with this e-mail already exists.", errors={"email": ["Already registered."]}
        ) from None
    wallet_open(user=user)
    for limit in limits:
        limit_set(user=user, kind=limit["kind"], period=limit["period"], amount=limit["amount"], actor=user)
    return user


@dataclass(frozen=True)
class PasswordResetLink:
    uid: str
    token: str


def password_reset_link(user: User) -> PasswordResetLink:
    return PasswordResetLink(
        uid=urlsafe_base64_encode(force_bytes(user.pk)), token=default_token_generator.make_token(user)
    )


def reset_mail_allowed(*, user: User) -> bool:
    """At most PASSWORD_RESET_MAILS_PER_HOUR reset e-mails per account and hour, whoever asks:
    a bound on flooding an inbox from many addresses. It never leaves the owner without a
    link: a mail it holds back repeats one delivered within the hour, and every link stays good
    until the password changes, the owner signs in, or PASSWORD_RESET_TIMEOUT passes."""
    key = f"password-reset-mails:{user.pk}"
    cache.add(key, 0, timeout=3600)
    return cache.incr(key) <= settings.PASSWORD_RESET_MAILS_PER_HOUR


def password_reset_request(*, email: str) -> PasswordResetLink | None:
    """E-mail a reset link to the account, if there is one. The caller must answer the same
    either way, so the endpoint does not tell who has an account."""
    user = user_by_email(email)
    if user is None:
        return None
    link = password_reset_link(user)
    if not reset_mail_allowed(user=user):
        logger.warning("Reset e-mail to user %s held back: the hourly number is reached", user.pk)
        return link
    url = settings.PASSWORD_RESET_URL.format(uid=link.uid, token=link.token)
    send_mail(
        subject="Reset your Oddstream password",
        message=f"Someone asked to reset the password of this account. If it was you, open:\n\n{url}\n\n"
        f"Or POST /api/auth/password-reset/confirm/ with uid={link.uid} and token={link.token}.\n",
        from_email=None,
        recipient_list=[user.email],
    )
    return link


def password_reset_link_decoy(*, email: str) -> PasswordResetLink:
    """What `password_reset_request` would hand out for an e-mail that has no account, where a
    reply shows links (DEBUG, loopback): the uid of an existing account, the same one every
    time for this e-mail, and a token of the real shape that matches nobody. So the reply looks
    the same whether or not the e-mail has an account."""
    ids = User.objects.order_by("pk").values_list("pk", flat=True)
    count = ids.count()
    digest = hmac.new(settings.SECRET_KEY.encode(), email_normalise(email).encode(), hashlib.sha256).digest()
    pk = ids[int.from_bytes(digest[:8], "big") % count] if count else 1
    stranger = User(pk=pk, email=email_normalise(email), password=secrets.token_hex(16))
    return password_reset_link(stranger)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link, and sign the user out of every JWT session."""
    try:
        user = User.objects.select_for_update().get(pk=int(force_str(urlsafe_base64_decode(uid))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise PasswordResetLinkInvalid("The reset link is invalid or has expired.")
    password_check(new_password, user)
    user.set_password(new_password)  # also invalidates the token: it hashes the password
    user.save(update_fields=["password"])
    refresh_tokens_revoke(user=user)
    return user


@transaction.atomic
def user_logout(*, refresh: str) -> None:
    """Blacklist the refresh token, and close every WebSocket of its user on every web process
    (their access tokens can open no new one: see realtime.credentials).

    The revocation record (what `accounts.authentication` checks on every request) is written
    before the commit, not after it: with Redis down it cannot be, and a sign-out the check never
    learns of would let the session's access token back in once Redis returns. So the Redis error
    rolls the blacklisting back and the client gets 503 with Retry-After (config.middleware):
    nothing changed, and the retry signs out for good."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # the stubs want bytes; str is accepted
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc
    user_id = int(token[jwt_settings.USER_ID_CLAIM])
    token.blacklist()
    revocation_record(user_id)
    user_sockets_close_on_commit(user_id=user_id, reason="signed out")
