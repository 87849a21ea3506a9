from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("betting.api.urls")),
    path("", include("ops.urls")),
    path("", include("frontend.urls")),
]
