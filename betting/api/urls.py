from django.urls import path

from betting.api import views
from betting.models import MatchStatus

TRANSITIONS = {
    "open": MatchStatus.OPEN,
    "suspend": MatchStatus.SUSPENDED,
    "close": MatchStatus.CLOSED,
    "void": MatchStatus.VOID,
}

urlpatterns = [
    path("matches/", views.MatchListApi.as_view(), name="match-list"),
    path("matches/<int:pk>/", views.MatchDetailApi.as_view(), name="match-detail"),
    path("matches/<int:pk>/odds-history/", views.MatchOddsHistoryApi.as_view(), name="match-odds-history"),
    *(
        path(
            f"matches/<int:pk>/{action}/",
            views.MatchTransitionApi.as_view(target_status=status),
            name=f"match-{action}",
        )
        for action, status in TRANSITIONS.items()
    ),
    path("matches/<int:pk>/settle/", views.MatchSettleApi.as_view(), name="match-settle"),
    path("matches/<int:pk>/correct/", views.MatchCorrectApi.as_view(), name="match-correct"),
    path("bets/", views.BetListCreateApi.as_view(), name="bet-list"),
    path("bets/<int:pk>/", views.BetDetailApi.as_view(), name="bet-detail"),
    path("bets/<int:pk>/cashout/quote/", views.CashoutQuoteApi.as_view(), name="bet-cashout-quote"),
    path("bets/<int:pk>/cashout/", views.CashoutAcceptApi.as_view(), name="bet-cashout"),
]
