"""Thin HTTP views: validate input, call one service or selector, render output."""

from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betting import selectors, services
from betting.api.serializers import (
    BetInputSerializer,
    BetOutputSerializer,
    MatchOutputSerializer,
    OddsVersionOutputSerializer,
)
from betting.models import Bet, Match, OddsVersion


class MatchListApi(generics.ListAPIView[Match]):
    serializer_class = MatchOutputSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> Any:
        return selectors.match_list_listed()


class MatchDetailApi(generics.RetrieveAPIView[Match]):
    serializer_class = MatchOutputSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Match.objects.all()


class MatchOddsHistoryApi(generics.ListAPIView[OddsVersion]):
    serializer_class = OddsVersionOutputSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> Any:
        match = get_object_or_404(Match, pk=self.kwargs["pk"])
        return OddsVersion.objects.filter(match=match).order_by("-version")


class BetListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        bets = selectors.bet_list_for_user(user_id=request.user.pk or 0)
        bet_status = request.query_params.get("status")
        if bet_status:
            bets = bets.filter(status=bet_status)
        return Response(BetOutputSerializer(bets[:200], many=True).data)

    def post(self, request: Request) -> Response:
        serializer = BetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bet = services.bet_place(
            user=request.user,  # type: ignore[arg-type]  # IsAuthenticated: never anonymous
            match_id=data["match"],
            selection=data["selection"],
            stake=data["stake"],
            quoted_odds=data.get("odds"),
            accept_odds_change=data["accept_odds_change"],
        )
        return Response(BetOutputSerializer(bet).data, status=status.HTTP_201_CREATED)


class BetDetailApi(generics.RetrieveAPIView[Bet]):
    serializer_class = BetOutputSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> Any:
        return selectors.bet_list_for_user(user_id=self.request.user.pk or 0)
