from django.urls import path

from payments.api import views

urlpatterns = [
    path("wallet/deposits/", views.DepositApi.as_view(), name="wallet-deposits"),
    path("wallet/withdrawals/", views.WithdrawalApi.as_view(), name="wallet-withdrawals"),
    path("wallet/payments/", views.PaymentListApi.as_view(), name="wallet-payments"),
    path("payments/callbacks/<str:provider>/", views.PaymentCallbackApi.as_view(), name="payment-callback"),
]
