"""Input and output shapes of the accounts, wallet and ledger API."""

import time
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import User, update_last_login
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.services import email_normalise
from accounts.tokens import RefreshToken
from betting.models import LedgerEntry
from betting.selectors import wallet_balance_of
from config.api_input import JSONInputSerializer
from safergambling.api.serializers import SignupLimitInputSerializer
from safergambling.reality_check import SESSION_STARTED_CLAIM


class EmailTokenObtainSerializer(TokenObtainPairSerializer):
    """`{"email", "password"}` → `{"access", "refresh"}`: the e-mail is the username."""

    username_field = "email"
    token_class = RefreshToken  # sessions and precise issue times (accounts/tokens.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = serializers.EmailField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # The ModelBackend authenticates by `username`, which holds the lower-cased e-mail.
        # django-axes gets Django's own request: a lockout it flags there becomes its 429.
        request = self.context.get("request")
        user = authenticate(
            getattr(request, "_request", request), username=email_normalise(attrs["email"]), password=attrs["password"]
        )
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed("No active account has this e-mail and password.", "no_active_account")
        self.user = user
        refresh = self.get_token(user)
        # Copied into every access token and kept through refreshes: the reality check's start.
        refresh[SESSION_STARTED_CLAIM] = int(time.time())
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, user)  # type: ignore[arg-type]  # the signal's sender is unused
        return {"access": str(refresh.access_token), "refresh": str(refresh)}  # type: ignore[attr-defined]


class TokenPairOutputSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(JSONInputSerializer):
    refresh = serializers.CharField()


def password_min_length() -> int:
    lengths = [v.min_length for v in get_default_password_validators() if isinstance(v, MinimumLengthValidator)]
    return max(lengths, default=1)


@extend_schema_field(
    {
        "type": "string",
        # Not entirely numeric (NumericPasswordValidator); JSON Schema patterns match anywhere.
        "pattern": r"\D",
        "description": "The password validators also refuse common passwords and ones too like the e-mail.",
    }
)
class PasswordField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        # The validators' minimum length, also as the field's, so that the schema states it.
        super().__init__(
            write_only=True, trim_whitespace=False, min_length=password_min_length(), max_length=128, **kwargs
        )


class RegisterInputSerializer(JSONInputSerializer):
    email = serializers.EmailField(max_length=150)  # `username` holds it: 150 characters at most
    password = PasswordField()
    limits = SignupLimitInputSerializer(
        many=True,
        required=False,
        help_text="Safer-gambling limits to start with (deposit, loss, stake), binding at once.",
    )


class UserOutputSerializer(serializers.ModelSerializer[User]):
    balance = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "is_staff", "date_joined", "balance"]

    def get_balance(self, user: User) -> str:
        return f"{wallet_balance_of(user_id=user.pk):.2f}"


class PasswordResetRequestInputSerializer(JSONInputSerializer):
    email = serializers.EmailField()


RESET_LINK_SHOWN = "Only under DEBUG, to a client on this machine, when ALLOWED_HOSTS names no other host."


class PasswordResetRequestOutputSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    uid = serializers.CharField(required=False, help_text=RESET_LINK_SHOWN)
    token = serializers.CharField(required=False, help_text=RESET_LINK_SHOWN)


class PasswordResetConfirmInputSerializer(JSONInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = PasswordField()


class WalletOutputSerializer(serializers.Serializer[Any]):
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    held = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Part of the balance set aside for pending withdrawals."
    )
    available = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="What a bet or a withdrawal may take: the balance less `held`."
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class LedgerEntryOutputSerializer(serializers.ModelSerializer[LedgerEntry]):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "bet", "memo", "created_at"]
