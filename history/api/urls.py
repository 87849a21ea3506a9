from django.urls import path

from history.api import views

urlpatterns = [
    path("bets/export/", views.BetExportApi.as_view(), name="bet-export"),
    path("wallet/ledger/export/", views.LedgerExportApi.as_view(), name="ledger-export"),
]
