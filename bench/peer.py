"""The bet path's peer: a plain DRF view that inserts one row, served only by the benchmark's
servers (`bench.settings` routes it, production URLs never do).

It goes through everything a bet's request goes through before the view (the middleware, JWT
authentication with its revocation check, `IsAuthenticated`, a serializer) and writes one row
in one transaction: what any authenticated write on this stack costs at least. The bet
benchmark (bench/bench_betpath.py) measures bets against it in the same run.
"""

from typing import Any

from django.urls import include, path
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.models import PeerRow


class PeerInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=64)


class PeerInsertApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request) -> Response:
        serializer = PeerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = PeerRow.objects.create(user=request.user, note=serializer.validated_data["note"])
        return Response({"id": row.pk, "note": row.note}, status=status.HTTP_201_CREATED)


# As in config.urls: an outage raised outside a view is a 503 too.
handler500 = "config.middleware.server_error"

urlpatterns = [
    path("bench/insert/", PeerInsertApi.as_view()),
    path("", include("config.urls")),
]
