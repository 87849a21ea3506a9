from django.urls import path

from inplay.api import views

urlpatterns = [
    path("feed/events/", views.FeedEventApi.as_view(), name="feed-events"),
    path("matches/<int:pk>/events/", views.MatchTimelineApi.as_view(), name="match-events"),
]
