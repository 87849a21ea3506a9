from django.urls import path

from safergambling.api import views

urlpatterns = [
    path("me/safer-gambling/", views.SaferGamblingApi.as_view(), name="safer-gambling"),
    path("me/limits/", views.LimitApi.as_view(), name="safer-gambling-limits"),
    path("me/time-out/", views.TimeoutApi.as_view(), name="safer-gambling-time-out"),
    path("me/self-exclusion/", views.SelfExclusionApi.as_view(), name="safer-gambling-self-exclusion"),
    path("me/reality-check/", views.RealityCheckApi.as_view(), name="safer-gambling-reality-check"),
]
