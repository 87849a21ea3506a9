"""CSV exports of the bettor's own bets and ledger (the lists are `GET /api/bets/` and
`GET /api/wallet/ledger/`, filtered the same way)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from betting.api.serializers import BetHistoryQuerySerializer, history_filters
from betting.selectors import bet_history
from config.api_schema import BAD_REQUEST, UNAUTHENTICATED
from history import exports, selectors
from history.api.serializers import LedgerHistoryQuerySerializer

CSV = OpenApiResponse(OpenApiTypes.STR, description="CSV (text/csv), streamed: a header line, then one line per row.")


class BetExportApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[BetHistoryQuerySerializer],
        responses={(200, "text/csv"): CSV, 400: BAD_REQUEST, 401: UNAUTHENTICATED},
        summary="Every bet of the user, newest first, as CSV (the same filters as the list).",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        filters = history_filters(BetHistoryQuerySerializer, request.query_params)
        bets = bet_history(user_id=request.user.pk or 0, **filters)
        return exports.csv_response("oddstream-bets.csv", exports.BET_COLUMNS, exports.bet_rows(bets))


class LedgerExportApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[LedgerHistoryQuerySerializer],
        responses={(200, "text/csv"): CSV, 400: BAD_REQUEST, 401: UNAUTHENTICATED},
        summary="Every ledger entry of the user, newest first, as CSV (the same filters as the list).",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        filters = history_filters(LedgerHistoryQuerySerializer, request.query_params)
        entries = selectors.ledger_history(user_id=request.user.pk or 0, **filters)
        return exports.csv_response("oddstream-ledger.csv", exports.LEDGER_COLUMNS, exports.ledger_rows(entries))
