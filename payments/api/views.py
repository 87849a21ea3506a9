"""Thin HTTP views of payments: deposits, withdrawals, the bettor's payments, and the
providers' callbacks (authenticated by the provider's signature, never by a bettor's token)."""

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from betting.idempotency import MAX_KEY_LENGTH, idempotency_key_of, request_fingerprint
from config.api_schema import BAD_REQUEST, NOT_FOUND, PAGE_NOT_FOUND, THROTTLED, UNAUTHENTICATED, error
from payments import selectors, services
from payments.api.serializers import CallbackOutputSerializer, PaymentInputSerializer, PaymentOutputSerializer
from payments.models import Payment, PaymentKind, PaymentStatus

PAYMENT_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="The same key again returns the same payment as it stands now (header `Idempotent-Replayed: "
    "true`) and moves no money; the same key with another body is a 422. A payment that failed in its own "
    "request frees its key.",
)
UNAVAILABLE = error("The payment provider (or another dependency) is unreachable: no money moved; `Retry-After`.")


class PaymentRequestApi(APIView):
    """POST a deposit or a withdrawal: 201 when the provider settled it at once, 202 while it
    is pending (the provider's callback settles it)."""

    permission_classes = [permissions.IsAuthenticated]
    kind = ""

    def post(self, request: Request) -> Response:
        key = idempotency_key_of(request)
        serializer = PaymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment, replayed = services.payment_request(
            user=cast(User, request.user),
            kind=self.kind,
            amount=serializer.validated_data["amount"],
            provider_name=serializer.validated_data.get("provider"),
            idempotency_key=key,
            fingerprint=request_fingerprint(request.data),
        )
        code = status.HTTP_202_ACCEPTED if payment.status == PaymentStatus.PENDING else status.HTTP_201_CREATED
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(PaymentOutputSerializer(payment).data, status=code, headers=headers)


COMMON_RESPONSES = {
    201: OpenApiResponse(PaymentOutputSerializer, description="Completed: the ledger entry is written."),
    202: OpenApiResponse(PaymentOutputSerializer, description="Pending: the provider will call back."),
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    402: error("`payment_declined`: the provider declined; no money moved (`payment`, `reason`)."),
    422: error("`idempotency_key_reused`: the key was used for a different request body."),
    503: UNAVAILABLE,
}


class DepositApi(PaymentRequestApi):
    kind = PaymentKind.DEPOSIT

    @extend_schema(
        request=PaymentInputSerializer,
        parameters=[PAYMENT_IDEMPOTENCY_KEY],
        responses={
            **COMMON_RESPONSES,
            403: error("`self_excluded` or `on_break`: the account takes no deposit until `ends_at`."),
            409: error(
                "`deposit_limit_reached`: past one of the account's deposit limits (`period`, `limit`, `remaining`)."
            ),
        },
        summary="Deposit through a payment provider.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class WithdrawalApi(PaymentRequestApi):
    kind = PaymentKind.WITHDRAWAL

    @extend_schema(
        request=PaymentInputSerializer,
        parameters=[PAYMENT_IDEMPOTENCY_KEY],
        responses={
            **COMMON_RESPONSES,
            409: error("`insufficient_funds`: more than the available money (the balance less what is held)."),
        },
        summary="Withdraw through a payment provider; the amount is held until the provider confirms.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class PaymentListApi(generics.ListAPIView[Payment]):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PaymentOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.payment_list_for_user(user_id=self.request.user.pk or 0)

    @extend_schema(
        responses={200: PaymentOutputSerializer(many=True), 401: UNAUTHENTICATED, 404: PAGE_NOT_FOUND},
        summary="The user's deposits and withdrawals, newest first, paginated.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CallbackThrottle(SimpleRateThrottle):
    """Callbacks per client IP: a signature is a credential, so guessing one is throttled."""

    scope = "payment_callbacks"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PaymentCallbackApi(APIView):
    """A provider's notice that a pending payment completed or failed. No bettor credential
    is read: the provider's signature over the raw body is the authentication."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [CallbackThrottle]

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: CallbackOutputSerializer,
            400: BAD_REQUEST,
            403: error("`invalid_signature`: missing, wrong or too old."),
            404: NOT_FOUND,
            409: error("`payment_already_settled` or `amount_mismatch`: the callback contradicts the record."),
            429: THROTTLED,
        },
        summary="Provider callback (signed): settles a pending payment, once, however often it is delivered.",
    )
    def post(self, request: Request, provider: str) -> Response:
        body = request.body  # the raw bytes the provider signed, read before DRF parses them
        request.data  # noqa: B018  # malformed or deeply nested JSON: the usual 400, before anything else
        if provider not in settings.PAYMENT_PROVIDERS:
            return Response({"code": "not_found", "detail": "No such payment provider."}, status=404)
        payment, applied = services.payment_callback_handle(
            provider_name=provider, body=body, headers=dict(request.headers)
        )
        return Response(
            CallbackOutputSerializer(
                {"reference": payment.reference, "status": payment.status, "applied": applied}
            ).data
        )
