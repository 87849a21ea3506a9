from django.urls import path

from safergambling import views

urlpatterns = [path("me/safer-gambling/", views.safer_gambling_page, name="safer-gambling-page")]
