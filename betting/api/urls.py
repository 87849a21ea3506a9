from django.urls import path

from betting.api import views

urlpatterns = [
    path("matches/", views.MatchListApi.as_view(), name="match-list"),
    path("matches/<int:pk>/", views.MatchDetailApi.as_view(), name="match-detail"),
    path("matches/<int:pk>/odds-history/", views.MatchOddsHistoryApi.as_view(), name="match-odds-history"),
    path("bets/", views.BetListCreateApi.as_view(), name="bet-list"),
    path("bets/<int:pk>/", views.BetDetailApi.as_view(), name="bet-detail"),
]
