"""Celery: the app, its queues and routing, the tasks, and the real-time publisher."""

from workers.celery import app

__all__ = ["app"]
