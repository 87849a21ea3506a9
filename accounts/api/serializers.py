"""Input and output shapes of the accounts, wallet and ledger API."""

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import User, update_last_login
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.services import email_normalise
from betting.models import LedgerEntry
from betting.selectors import wallet_balance_of


class EmailTokenObtainSerializer(TokenObtainPairSerializer):
    """`{"email", "password"}` → `{"access", "refresh"}`: the e-mail is the username."""

    username_field = "email"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = serializers.EmailField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # The ModelBackend authenticates by `username`, which holds the lower-cased e-mail.
        user = authenticate(
            self.context.get("request"), username=email_normalise(attrs["email"]), password=attrs["password"]
        )
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed("No active account has this e-mail and password.", "no_active_account")
        self.user = user
        refresh = self.get_token(user)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, user)  # type: ignore[arg-type]  # the signal's sender is unused
        return {"access": str(refresh.access_token), "refresh": str(refresh)}  # type: ignore[attr-defined]


class TokenPairOutputSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField()


class RegisterInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=150)  # `username` holds it: 150 characters at most
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class UserOutputSerializer(serializers.ModelSerializer[User]):
    balance = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "is_staff", "date_joined", "balance"]

    def get_balance(self, user: User) -> str:
        return f"{wallet_balance_of(user_id=user.pk):.2f}"


class PasswordResetRequestInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()


class PasswordResetRequestOutputSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    uid = serializers.CharField(required=False, help_text="Only with DEBUG=True, for local testing.")
    token = serializers.CharField(required=False, help_text="Only with DEBUG=True, for local testing.")


class PasswordResetConfirmInputSerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class WalletOutputSerializer(serializers.Serializer[Any]):
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    updated_at = serializers.DateTimeField(allow_null=True)


class LedgerEntryOutputSerializer(serializers.ModelSerializer[LedgerEntry]):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "bet", "memo", "created_at"]
