from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"

    def ready(self) -> None:
        # Register the tasks in every Django process (web, worker, tests), not only in a
        # worker that autodiscovers them: the apps look tasks up by name when they send
        # one. The tasks use models, so this waits until the app registry is ready.
        from workers import tasks  # noqa: F401
