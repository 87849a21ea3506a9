"""Thin HTTP views: validate input, call one service or selector, render output."""

import logging
from collections.abc import Sequence
from typing import Any

import redis
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from betting import cashout, matches, selectors, settlement
from betting.accumulators import LegRequest
from betting.api.serializers import (
    AccumulatorInputSerializer,
    BetHistoryQuerySerializer,
    BetInputSerializer,
    BetOutputSerializer,
    CashoutAcceptInputSerializer,
    CashoutPendingOutputSerializer,
    CashoutQuoteOutputSerializer,
    MatchCreateInputSerializer,
    MatchOutputSerializer,
    MatchSettleInputSerializer,
    OddsVersionOutputSerializer,
    bet_reply,
    history_filters,
)
from betting.errors import IdempotencyKeyRequired
from betting.idempotency import MAX_KEY_LENGTH, bet_place_idempotent, idempotency_key_of, request_fingerprint
from betting.models import Bet, Match, MatchStatus, OddsVersion
from betting.permissions import CanMakeTransition, CanTradeOrReadOnly
from config.api_schema import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    PAGE_NOT_FOUND,
    THROTTLED,
    UNAUTHENTICATED,
    error,
)
from config.pagination import PageNumberPagination

logger = logging.getLogger(__name__)


class BetPlacementThrottle(UserRateThrottle):
    """Bets per user, counted in the Redis cache; reading one's bets is not throttled.

    Fails open: with Redis down the bet is still placed. The bettor is signed in, and the
    stake limits and the balance bound what an unthrottled minute can do, where refusing
    would stop all betting for the length of the outage."""

    scope = "bets"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        try:
            return super().allow_request(request, view)
        except (redis.ConnectionError, redis.TimeoutError):
            logger.warning("Bet throttle skipped: Redis unavailable")
            return True


@extend_schema_view(
    get=extend_schema(
        responses={200: MatchOutputSerializer(many=True), 404: PAGE_NOT_FOUND}, summary="Matches not yet finished."
    )
)
class MatchListApi(generics.ListAPIView[Match]):
    serializer_class = MatchOutputSerializer
    permission_classes = [CanTradeOrReadOnly]

    def get_permissions(self) -> Sequence[Any]:
        # Reading is open to all: said with DRF's own class, so the schema shows it needs no sign-in.
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return super().get_permissions()

    def get_queryset(self) -> Any:
        return selectors.match_list_listed()

    @extend_schema(
        request=MatchCreateInputSerializer,
        responses={
            201: MatchOutputSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            409: error("`match_started`: a match cannot be created open once its kick-off has passed."),
        },
        summary="Trading (`betting.trade_match`): create a match with every market priced by the team model, or "
        "from a trader's `opening_odds` (recorded); scheduled unless `status` is open (refused once kick-off has "
        "passed).",
    )
    def post(self, request: Request) -> Response:
        serializer = MatchCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        match = matches.match_create(
            home_team=data["home_team"],
            away_team=data["away_team"],
            kickoff=data["kickoff"],
            opening=data.get("opening_odds"),
            league=data.get("league"),
            status=data["status"],
            created_by=request.user,
        )
        return Response(MatchOutputSerializer(match).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(responses={200: MatchOutputSerializer, 404: NOT_FOUND}))
class MatchDetailApi(generics.RetrieveAPIView[Match]):
    serializer_class = MatchOutputSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Match.objects.prefetch_related("market_rows")


@extend_schema_view(
    get=extend_schema(
        responses={200: OddsVersionOutputSerializer(many=True), 404: NOT_FOUND},
        summary="Every published version of a match's odds, newest first.",
    )
)
class MatchOddsHistoryApi(generics.ListAPIView[OddsVersion]):
    serializer_class = OddsVersionOutputSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> Any:
        match = get_object_or_404(Match, pk=self.kwargs["pk"])
        return OddsVersion.objects.filter(match=match).order_by("-version")


TRANSITION_ERRORS = {
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: error("The match's status does not lead there (e.g. settling an open match); `status` is the current one."),
}


class MatchTransitionApi(APIView):
    """Staff trading: move a match along its lifecycle. Each change is published."""

    permission_classes = [permissions.IsAuthenticated, CanMakeTransition]
    target_status: str = ""

    @extend_schema(request=None, responses={200: MatchOutputSerializer, **TRANSITION_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        get_object_or_404(Match, pk=pk)
        match = settlement.match_transition(match_id=pk, status=self.target_status)
        return Response(MatchOutputSerializer(match).data)


class MatchSettleApi(MatchTransitionApi):
    target_status = MatchStatus.SETTLED

    @extend_schema(
        request=MatchSettleInputSerializer,
        responses={200: MatchOutputSerializer, 400: BAD_REQUEST, **TRANSITION_ERRORS},
        summary="Settlement (`betting.settle_match`): enter the final score of a closed match; the settlement "
        "worker settles every bet of every market from it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        get_object_or_404(Match, pk=pk)
        serializer = MatchSettleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        match = self.settle(match_id=pk, score=(data["home_goals"], data["away_goals"]))
        return Response(MatchOutputSerializer(match).data)

    def settle(self, *, match_id: int, score: tuple[int, int]) -> Match:
        return settlement.match_transition(match_id=match_id, status=self.target_status, score=score)


class MatchCorrectApi(MatchSettleApi):
    """Needs the permission of settling (`target_status`): it moves money too."""

    @extend_schema(
        request=MatchSettleInputSerializer,
        responses={200: MatchOutputSerializer, 400: BAD_REQUEST, **TRANSITION_ERRORS},
        summary="Settlement (`betting.settle_match`): correct the final score of a settled match; the settlement "
        "worker grades every bet again, reverses what changed and pays it again.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def settle(self, *, match_id: int, score: tuple[int, int]) -> Match:
        return settlement.match_result_correct(match_id=match_id, score=score)


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=True,
    description="Required: a fresh key per bet (a UUID, say), sent again unchanged on every retry of that bet. "
    "Replaying an accepted bet with the same key within 24 h returns the first response "
    "(header `Idempotent-Replayed: true`) and places nothing; after no answer or a 503 the same key places "
    "the bet at most once; the same key with another body is a 422. Without it: 428.",
)
IDEMPOTENCY_KEY_REQUIRED_MESSAGE = (
    "Send an Idempotency-Key header: a fresh key per bet (a UUID, say), the same key again on every retry "
    "of that bet, so a retry after a lost answer can never place it twice."
)


class BetListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination
    throttle_classes = [BetPlacementThrottle]

    @extend_schema(
        parameters=[BetHistoryQuerySerializer],
        responses={200: BetOutputSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHENTICATED, 404: PAGE_NOT_FOUND},
        summary="The user's own bets, newest first, paginated, filtered by status, market and the day placed "
        "(`/api/bets/export/` gives them all as CSV).",
    )
    def get(self, request: Request) -> Response:
        filters = history_filters(BetHistoryQuerySerializer, request.query_params)
        bets = selectors.bet_history(user_id=request.user.pk or 0, **filters)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(bets, request, view=self)
        return paginator.get_paginated_response(BetOutputSerializer(page, many=True).data)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="BetPlacement",
            serializers=[BetInputSerializer, AccumulatorInputSerializer],
            resource_type_field_name=None,
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: BetOutputSerializer,
            202: OpenApiResponse(
                BetOutputSerializer,
                description="In play: the bet is `pending` for the bet delay (INPLAY_BET_DELAY_SECONDS, until "
                "`decide_at`), its stake held; it becomes `open` or `rejected` (with its `reason`), told on the "
                "private socket and in `GET /api/bets/<id>/`.",
            ),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            409: error(
                "Refused by the book, nothing debited: `odds_changed` (with the market's current `odds` and the "
                "`version`), `stake_too_high` (with the `max_stake` the selection takes now), `market_suspended` "
                "(with the `reason`: goal, red_card, penalty or trader), `market_closed`, `selection_closed`, "
                "`selection_decided` (in play, with the `outcome` the score already gave it), "
                "`match_not_open` (with its `status`), `match_started`, `insufficient_funds` (with the `balance` "
                "and `available`), or the account's own limits: `stake_limit` (with `max_stake`), "
                "`loss_limit_reached` (with `period`, `limit`, `remaining`). An accumulator's refusals name the "
                "`leg` (its index) that caused them."
            ),
            403: error("`self_excluded` or `on_break`: the account takes no bet until `ends_at`."),
            422: error("`idempotency_key_reused`: the key was used for a different request body."),
            428: error("`idempotency_key_required`: no `Idempotency-Key` header. Nothing was written."),
            429: THROTTLED,
        },
        summary="Place a bet: a single, or an accumulator (`legs`, 2 to 10 on different matches; two legs of one "
        "match are a 400 `accumulator_same_match`). Debits the stake and strikes the bet at the current prices "
        "(201); a single in play holds the stake and is decided after the bet delay (202, `pending`).",
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key_of(request)
        if key is None:
            raise IdempotencyKeyRequired(IDEMPOTENCY_KEY_REQUIRED_MESSAGE)
        # A body with `legs` is an accumulator (docs/bet-types.md#accumulators), else a single.
        is_accumulator = isinstance(request.data, dict) and "legs" in request.data
        serializer = (AccumulatorInputSerializer if is_accumulator else BetInputSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = (accumulator_arguments if is_accumulator else bet_arguments)(serializer.validated_data)
        user = request.user  # IsAuthenticated: never anonymous
        record, replayed = bet_place_idempotent(
            user=user,  # type: ignore[arg-type]
            key=key,
            fingerprint=request_fingerprint(request.data),
            render=bet_reply,
            bet_arguments=arguments,
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(record.response_body, status=record.response_status, headers=headers)


def bet_arguments(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "match_id": data["match"],
        "market": data["market"],
        "selection": data["selection"],
        "stake": data["stake"],
        "quoted_odds": data.get("odds"),
        "accept_odds_change": data["accept_odds_change"],
    }


def accumulator_arguments(data: dict[str, Any]) -> dict[str, Any]:
    legs = [
        LegRequest(match_id=leg["match"], market=leg["market"], selection=leg["selection"], quoted_odds=leg.get("odds"))
        for leg in data["legs"]
    ]
    return {"legs": legs, "stake": data["stake"], "accept_odds_change": data["accept_odds_change"]}


@extend_schema_view(get=extend_schema(responses={200: BetOutputSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND}))
class BetDetailApi(generics.RetrieveAPIView[Bet]):
    serializer_class = BetOutputSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> Any:
        return selectors.bet_list_for_user(user_id=self.request.user.pk or 0)


CASHOUT_REFUSALS = {
    401: UNAUTHENTICATED,
    404: NOT_FOUND,
    409: error(
        "No cash-out now, nothing written: `cashout_unavailable` (with the `reason`: `bet_not_open`, `leg_lost`, "
        "`market_closed`, `not_priced`, `no_value`), `market_suspended` (a leg's market, with the `reason`), "
        "`cashout_quote_expired`, `cashout_pending` (another acceptance of the bet waits for its decision in play), "
        "or `cashout_refused` (this quote's acceptance was refused after the bet delay, with the `reason`)."
    ),
}


class CashoutQuoteApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: CashoutQuoteOutputSerializer, **CASHOUT_REFUSALS},
        summary="A cash-out offer for the user's open bet (single or accumulator): its potential payout x the fair "
        "probability it wins now, less CASHOUT_MARGIN; valid `expires_at` (10 s).",
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = cashout.cashout_quote(user=request.user, bet_id=pk)  # type: ignore[arg-type]
        return Response(CashoutQuoteOutputSerializer(quote).data, status=status.HTTP_201_CREATED)


class CashoutAcceptApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=CashoutAcceptInputSerializer,
        responses={
            200: BetOutputSerializer,
            202: OpenApiResponse(
                response=CashoutPendingOutputSerializer,
                description="In play: the acceptance is `pending` for the bet delay (until `decide_at`); the bet "
                "stays open. Its decision comes as a `cashout_decision` frame on the bettor's private feed.",
            ),
            400: BAD_REQUEST,
            **CASHOUT_REFUSALS,
        },
        summary="Accept a cash-out quote: the bet is settled `cashed_out` at the quoted amount, once (in play, after "
        "the bet delay: 202). The same quote again returns the same answer (`Idempotent-Replayed: true`) and "
        "moves nothing.",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = CashoutAcceptInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bet, quote, changed = cashout.cashout_accept(
            user=request.user,  # type: ignore[arg-type]
            bet_id=pk,
            quote_id=str(serializer.validated_data["quote"]),
        )
        headers = None if changed else {"Idempotent-Replayed": "true"}
        if quote.accepted_at is None:
            pending = CashoutPendingOutputSerializer(quote).data
            return Response(pending, status=status.HTTP_202_ACCEPTED, headers=headers)
        return Response(BetOutputSerializer(bet).data, headers=headers)
