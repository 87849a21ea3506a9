"""Celery, an entry point: the app with its queues and routing, and the tasks it runs.

Nothing in the domain apps imports this package; they send work by task name (their
`jobs` modules).
"""

from workers.celery import app

__all__ = ["app"]
