from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("betting.api.urls")),
    path("api/", include("blog.api.urls")),
    path("", include("blog.urls")),
    path("", include("frontend.urls")),
]
