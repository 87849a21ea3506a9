"""Thin HTTP views of the match feed: the provider's endpoint and a match's timeline."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import RevocationCheckedJWTAuthentication
from betting.events import live_of
from betting.models import Match
from config.api_schema import BAD_REQUEST, NOT_FOUND, THROTTLED, error
from inplay import selectors, services
from inplay.api.serializers import (
    FeedEventInputSerializer,
    FeedEventReplySerializer,
    MatchTimelineSerializer,
)
from inplay.credentials import FeedTokenAuthentication, IsFeedProvider
from inplay.events import feed_event_payload
from inplay.models import FeedProvider


class FeedEventApi(APIView):
    """A provider posts the events of a match, one per request."""

    # The feed token first; a JWT is still read, so a bettor's token is a 403, not a 401.
    authentication_classes = [FeedTokenAuthentication, RevocationCheckedJWTAuthentication]
    permission_classes = [IsFeedProvider]

    @extend_schema(
        request=FeedEventInputSerializer,
        responses={
            202: OpenApiResponse(FeedEventReplySerializer, description="Appended to the log; a worker processes it."),
            200: OpenApiResponse(FeedEventReplySerializer, description="Already in the log: nothing changed."),
            400: BAD_REQUEST,
            401: error("No feed token, or an invalid or revoked one (`Authorization: Feed <token>`)."),
            403: error("Credentials of a user (a bettor's JWT), not a provider's feed token."),
            409: error(
                "`event_conflict`: the event id or sequence number is taken by a different event; "
                "`match_fed_by_another_provider`."
            ),
            429: THROTTLED,
        },
        summary="Feed (`Authorization: Feed <token>`): append one event of a match to its log.",
    )
    def post(self, request: Request) -> Response:
        serializer = FeedEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        score = data.get("score")
        incoming = services.IncomingEvent(
            event_id=data["event_id"],
            match_id=data["match"],
            sequence=data["sequence"],
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            team=data.get("team", ""),
            minute=data.get("minute"),
            cancels=data.get("cancels", ""),
            final_score=(score["home"], score["away"]) if score else None,
            clock_rate=data.get("clock_rate"),
        )
        provider = request.auth
        assert isinstance(provider, FeedProvider)  # IsFeedProvider
        event, created = services.feed_event_append(provider=provider, incoming=incoming)
        body = {"event": feed_event_payload(event, None), "duplicate": not created}
        return Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class MatchTimelineApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={200: MatchTimelineSerializer, 404: NOT_FOUND},
        summary="A match's live state and its feed events in sequence order, each with what it did.",
    )
    def get(self, request: Request, pk: int) -> Response:
        match = get_object_or_404(Match.objects.select_related("live_state"), pk=pk)
        body: dict[str, Any] = {
            "match": match.pk,
            "status": match.status,
            "suspended_reason": match.suspended_reason,
            "live": live_of(match),
            "events": [feed_event_payload(event, outcome) for event, outcome in selectors.match_timeline(match.pk)],
        }
        return Response(body)
