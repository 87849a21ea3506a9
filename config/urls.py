from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from config.api_docs import RedocDocsView, SwaggerDocsView
from config.exceptions import api_not_found

# An outage raised outside a view is a 503 too (config.middleware).
handler500 = "config.middleware.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("betting.api.urls")),
    path("api/", include("accounts.api.urls")),
    path("api/", include("payments.api.urls")),
    path("api/", include("safergambling.api.urls")),
    path("api/", include("history.api.urls")),
    path("api/", include("inplay.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocDocsView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("blog.api.urls")),
    # Last of the API: the rest of /api/ is a JSON 404. Only paths ending in "/", so that
    # CommonMiddleware still redirects `/api/matches` to `/api/matches/`.
    re_path(r"^api/(?P<path>.*/)$", api_not_found),
    path("", include("blog.urls")),
    path("", include("ops.urls")),
    path("", include("safergambling.urls")),
    path("", include("frontend.urls")),
]
