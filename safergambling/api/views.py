"""Thin HTTP views of safer gambling: the account's limits, breaks, reality check and audit."""

from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_schema import BAD_REQUEST, UNAUTHENTICATED, error
from safergambling import selectors, services
from safergambling.api.serializers import (
    LimitInputSerializer,
    LimitOutputSerializer,
    RealityCheckInputSerializer,
    RealityCheckOutputSerializer,
    RestrictionOutputSerializer,
    SaferGamblingOutputSerializer,
    SelfExclusionInputSerializer,
    TimeoutInputSerializer,
)
from safergambling.models import Restriction
from safergambling.reality_check import SESSION_STARTED_CLAIM, SESSION_STARTED_KEY


def session_started_at(request: Request) -> datetime:
    """When the bettor's session began: the page session's sign-in, or the sign-in that issued
    the JWT pair (the claim survives refreshes); now, for a session that does not say."""
    token: Any = request.auth
    if token is not None and hasattr(token, "get") and token.get(SESSION_STARTED_CLAIM):
        return datetime.fromtimestamp(int(token.get(SESSION_STARTED_CLAIM)), tz=UTC)
    session = getattr(request, "session", None)
    if session is not None and request.auth is None:
        if SESSION_STARTED_KEY not in session:
            session[SESSION_STARTED_KEY] = timezone.now().isoformat()
        return datetime.fromisoformat(session[SESSION_STARTED_KEY])
    return timezone.now()


class AccountApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @property
    def account(self) -> User:
        return cast(User, self.request.user)


class SaferGamblingApi(AccountApi):
    @extend_schema(
        responses={200: SaferGamblingOutputSerializer, 401: UNAUTHENTICATED},
        summary="The account's break in force, limits (with any pending increase and when it binds), reality-check "
        "interval and the latest changes.",
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        user_id = self.account.pk
        body = {
            "restriction": selectors.restriction_in_force(user_id=user_id, now=now),
            "limits": selectors.limit_list_for_user(user_id=user_id),
            "reality_check_minutes": selectors.reality_check_minutes_of(user_id=user_id),
            "audit": selectors.audit_for_user(user_id=user_id)[:50],
        }
        return Response(SaferGamblingOutputSerializer(body, context={"now": now}).data)


class LimitApi(AccountApi):
    @extend_schema(
        request=LimitInputSerializer,
        responses={200: LimitOutputSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED},
        summary="Set one limit: lower (or new) binds at once; higher or null (removal) binds after 24 hours, "
        "and `pending.effective_at` says when.",
    )
    def post(self, request: Request) -> Response:
        serializer = LimitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        now = timezone.now()
        limit = services.limit_set(user=self.account, actor=self.account, now=now, **serializer.validated_data)
        return Response(LimitOutputSerializer(limit, context={"now": now}).data)


BREAK_RESPONSES = {
    201: RestrictionOutputSerializer,
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    409: error("`already_restricted`: a break in force ends as late or later (`ends_at`); a break is never shortened."),
}


class BreakApi(AccountApi):
    """Take a break (a time-out or a self-exclusion), by the service that takes its length."""

    input_serializer: type[TimeoutInputSerializer | SelfExclusionInputSerializer]

    def take(self, length: int) -> Restriction:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        (length,) = serializer.validated_data.values()
        return Response(RestrictionOutputSerializer(self.take(length)).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        request=TimeoutInputSerializer,
        responses=BREAK_RESPONSES,
        summary="Take a break of 1 to 42 days, at once: no bet, deposit or private feed until it ends; every session "
        "and socket of the account is ended.",
    )
)
class TimeoutApi(BreakApi):
    input_serializer = TimeoutInputSerializer

    def take(self, length: int) -> Restriction:
        return services.timeout_take(user=self.account, days=length, actor=self.account)


@extend_schema_view(
    post=extend_schema(
        request=SelfExclusionInputSerializer,
        responses=BREAK_RESPONSES,
        summary="Exclude the account for 6 to 60 months, at once and irrevocably: no bet, deposit or private feed "
        "until it ends; every session and socket of the account is ended.",
    )
)
class SelfExclusionApi(BreakApi):
    input_serializer = SelfExclusionInputSerializer

    def take(self, length: int) -> Restriction:
        return services.self_exclusion_take(user=self.account, months=length, actor=self.account)


class RealityCheckApi(AccountApi):
    def body(self, request: Request) -> dict[str, Any]:
        started, now = session_started_at(request), timezone.now()
        minutes = selectors.reality_check_minutes_of(user_id=self.account.pk)
        return {
            "session_started_at": started,
            "elapsed_seconds": max(0, int((now - started).total_seconds())),
            "interval_minutes": minutes,
            "interval_seconds": settings.REALITY_CHECK_SECONDS or minutes * 60,
            **selectors.session_result(user_id=self.account.pk, since=started),
            "limits_url": reverse("safer-gambling-page"),
        }

    @extend_schema(
        responses={200: RealityCheckOutputSerializer, 401: UNAUTHENTICATED},
        summary="The session's start, time spent and net result on bets, and how often to remind.",
    )
    def get(self, request: Request) -> Response:
        return Response(RealityCheckOutputSerializer(self.body(request)).data)

    @extend_schema(
        request=RealityCheckInputSerializer,
        responses={200: RealityCheckOutputSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED},
        summary="Set how often the reality check comes (10 to 240 minutes).",
    )
    def put(self, request: Request) -> Response:
        serializer = RealityCheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reality_check_set(
            user=self.account, minutes=serializer.validated_data["interval_minutes"], actor=self.account
        )
        return Response(RealityCheckOutputSerializer(self.body(request)).data)
