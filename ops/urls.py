from django.urls import path

from ops import views

urlpatterns = [
    path("metrics", views.metrics_view, name="metrics"),
    path("ops/", views.ops_page, name="ops"),
    path("ops/status.json", views.ops_status_view, name="ops-status"),
]
