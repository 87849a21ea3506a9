import os

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only by `bench.settings`, in the servers a benchmark starts."""

    name = "bench"
    label = "bench"

    def ready(self) -> None:
        from bench.hooks import hooks_apply

        hooks_apply(os.environ)
