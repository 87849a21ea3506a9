"""A Celery task running the seeds' code (`celery worker --include tests.integration.seeds.tasks`)."""

from celery import shared_task

from tests.integration.seeds import publish


@shared_task(name="seeds.cotes_broadcast")
def cotes_broadcast(match_id: int, cotes_data: dict) -> None:
    publish.cotes_broadcast(match_id, cotes_data)
