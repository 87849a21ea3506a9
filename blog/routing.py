from django.urls import path

from blog import consumers

websocket_urlpatterns = [
    path("ws/blog/", consumers.BlogConsumer.as_asgi()),
]
