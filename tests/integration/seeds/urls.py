from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from tests.integration.seeds import publish


def cotes_view(request: HttpRequest, match_id: int) -> JsonResponse:
    """A sync view publishing with the seed's code."""
    data = {"match_id": match_id, "cote1": 1.5, "coteN": 4.0, "cote2": 6.0, "last_updated": "now", "paris_count": 1}
    publish.cotes_broadcast(match_id, data)
    return JsonResponse({"sent": data})


urlpatterns = [path("seed/cotes/<int:match_id>/", cotes_view), *project_urlpatterns]
