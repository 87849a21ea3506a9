"""Thin HTTP views of accounts: sign-up, JWT, logout, password reset, the user and their wallet."""

import ipaddress
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from accounts import services
from accounts.api.serializers import (
    EmailTokenObtainSerializer,
    LedgerEntryOutputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetRequestInputSerializer,
    PasswordResetRequestOutputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
    WalletOutputSerializer,
)
from accounts.throttles import AuthAccountIpThrottle, AuthIpThrottle
from accounts.tokens import TokenRefreshSerializer
from betting import selectors
from betting.api.serializers import history_filters
from betting.models import LedgerEntry
from config.api_schema import BAD_REQUEST, THROTTLED, UNAUTHENTICATED, error
from config.client_ip import client_ip
from history.api.serializers import LedgerHistoryQuerySerializer
from history.selectors import ledger_history

# Sign-in, sign-up and reset: counted per client IP in the Redis cache (django-axes also
# counts failed sign-ins per IP and per account and IP). The reset endpoints add a count per
# account and IP together: never per account alone (accounts/throttles.py).
AUTH_THROTTLES: list[type[BaseThrottle]] = [AuthIpThrottle]
RESET_THROTTLES: list[type[BaseThrottle]] = [AuthIpThrottle, AuthAccountIpThrottle]


LOCAL_HOSTS = frozenset({"localhost", ".localhost", "127.0.0.1", "::1", "[::1]"})


def host_is_local(host: str) -> bool:
    """An ALLOWED_HOSTS entry that only names this machine (never `*` or a domain)."""
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reset_link_shown_to(request: Request) -> bool:
    """Whether the reset reply may carry the link (the blog seed's demo shows it "to test
    quickly"): only under DEBUG, to a client on this machine, on a server that answers to no
    other host. Anyone else could reset any account with it, admin's included."""
    if not settings.DEBUG or not all(host_is_local(host) for host in settings.ALLOWED_HOSTS):
        return False
    try:
        return ipaddress.ip_address(client_ip(request._request)).is_loopback
    except ValueError:
        return False


def request_field(request: Request, name: str) -> str:
    data = request.data
    return str(data.get(name, "")) if isinstance(data, dict) else ""


class AnonymousAuthApi(APIView):
    """An endpoint for someone not signed in yet: open to all, throttled per client IP, and
    deaf to credentials (a stale token must not turn a sign-up into a 401)."""

    throttle_classes = AUTH_THROTTLES
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []


class RegisterApi(AnonymousAuthApi):
    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: UserOutputSerializer, 400: BAD_REQUEST, 429: THROTTLED},
        summary="Sign up with e-mail and password; the wallet opens with the sign-up credit.",
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(TokenObtainPairView):
    throttle_classes = AUTH_THROTTLES
    serializer_class = EmailTokenObtainSerializer

    @extend_schema(
        responses={
            200: TokenPairOutputSerializer,
            400: BAD_REQUEST,
            401: error("Wrong e-mail or password, or the account is inactive."),
            429: THROTTLED,
        },
        summary="JWT pair from e-mail and password.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class TokenRefreshApi(TokenRefreshView):
    serializer_class = TokenRefreshSerializer

    @extend_schema(
        responses={
            200: TokenPairOutputSerializer,
            400: BAD_REQUEST,
            401: error("The refresh token is invalid, expired or already used (rotated or logged out)."),
        },
        summary="A new access token and a new refresh token; the old refresh token is blacklisted.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutApi(TokenBlacklistView):
    """The refresh token is the credential: no access token needed to log out."""

    @extend_schema(
        request=RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="Logged out."),
            400: BAD_REQUEST,
            401: error("Invalid token."),
            503: error(
                "Redis is down: the sign-out could not be recorded for the access tokens' check, so nothing "
                "changed (still signed in); retry after the `Retry-After` header's seconds."
            ),
        },
        summary="Blacklist the refresh token, and close the user's WebSockets (4401).",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetRequestApi(AnonymousAuthApi):
    throttle_classes = RESET_THROTTLES

    def throttle_account(self, request: Request) -> str:
        return request_field(request, "email")

    @extend_schema(
        request=PasswordResetRequestInputSerializer,
        responses={202: PasswordResetRequestOutputSerializer, 400: BAD_REQUEST, 429: THROTTLED},
        summary="E-mail a reset link. The answer is the same whether the account exists or not.",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        link = services.password_reset_request(email=email)
        body: dict[str, str] = {"detail": "If an account has this e-mail, a reset link is on its way."}
        if reset_link_shown_to(request):  # local testing without reading the e-mail
            link = link or services.password_reset_link_decoy(email=email)
            body |= {"uid": link.uid, "token": link.token}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(AnonymousAuthApi):
    throttle_classes = RESET_THROTTLES

    def throttle_account(self, request: Request) -> str:
        return request_field(request, "uid")

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={
            204: OpenApiResponse(description="Password changed; every refresh token is revoked."),
            400: BAD_REQUEST,
            429: THROTTLED,
        },
        summary="Set a new password with the uid and token of the reset e-mail.",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: UserOutputSerializer, 401: UNAUTHENTICATED}, summary="The user and their balance.")
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(cast(User, request.user)).data)


class WalletApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: WalletOutputSerializer, 401: UNAUTHENTICATED}, summary="The user's balance.")
    def get(self, request: Request) -> Response:
        wallet = selectors.wallet_for_user(user_id=request.user.pk or 0)
        body = {
            "balance": wallet.balance if wallet else "0.00",
            "held": wallet.held if wallet else "0.00",
            "available": wallet.available if wallet else "0.00",
            "updated_at": wallet.updated_at if wallet else None,
        }
        return Response(WalletOutputSerializer(body).data)


class LedgerApi(generics.ListAPIView[LedgerEntry]):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LedgerEntryOutputSerializer

    def get_queryset(self) -> Any:
        filters = history_filters(LedgerHistoryQuerySerializer, self.request.query_params)
        return ledger_history(user_id=self.request.user.pk or 0, **filters)

    @extend_schema(
        parameters=[LedgerHistoryQuerySerializer],
        responses={
            200: LedgerEntryOutputSerializer(many=True),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            404: error("No such page."),
        },
        summary="The user's ledger, newest first, paginated, filtered by kind and day "
        "(`/api/wallet/ledger/export/` gives it all as CSV).",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
