from django.urls import path

from betting import consumers

websocket_urlpatterns = [
    path("ws/odds/", consumers.OddsConsumer.as_asgi()),
    path("ws/odds/<int:match_id>/", consumers.OddsConsumer.as_asgi()),
    # The seed's endpoints and message shape, for its existing clients.
    path("ws/cotes/", consumers.CotesConsumer.as_asgi()),
    path("ws/cotes/<int:match_id>/", consumers.CotesConsumer.as_asgi()),
]
