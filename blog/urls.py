from django.urls import path

from blog import views

urlpatterns = [
    path("ws-demo/", views.ws_demo, name="ws-demo"),
]
