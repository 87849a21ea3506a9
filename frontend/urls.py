from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("matches/<int:match_id>/", views.match_detail, name="match-detail-page"),
    path("me/bets/", views.my_bets, name="my-bets"),
    path("me/wallet/", views.my_wallet, name="my-wallet"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/reset/<str:uid>/<str:token>/", views.password_reset_page, name="password-reset-page"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
