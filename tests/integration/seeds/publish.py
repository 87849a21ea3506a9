"""The seeds' publishing code, verbatim apart from taking its values as arguments: the blog
seed's `perform_create` and the odds seed's signal (`update_cotes_on_new_pari`)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def blog_post_created(post_id, title, status):
    channel_layer = get_channel_layer()
    async_to_sync(channel_layer.group_send)(
        "blog_feed",
        {
            "type": "blog_event",
            "data": {
                "event": "post_created",
                "id": post_id,
                "title": title,
                "status": status,
            },
        },
    )


def cotes_broadcast(match_id, cotes_data):
    channel_layer = get_channel_layer()
    # Envoyer à tous les clients connectés au match
    async_to_sync(channel_layer.group_send)(f"cotes_{match_id}", {"type": "cotes_update", "data": cotes_data})
    # Envoyer aussi au groupe "all"
    async_to_sync(channel_layer.group_send)("cotes_all", {"type": "cotes_update", "data": cotes_data})
