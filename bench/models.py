"""The row the plain-insert peer writes (bench/peer.py): installed only by `bench.settings`."""

from django.conf import settings
from django.db import models


class PeerRow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.note
