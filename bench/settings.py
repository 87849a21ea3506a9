"""The settings of the servers a benchmark starts: `make run`'s, plus the benchmark's hooks
(bench/hooks.py), which apply what the environment asks for and nothing otherwise, and the
plain-insert peer of the bet benchmark at `/bench/insert/` (bench/peer.py)."""

from config.settings.local import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]  # noqa: F405
ROOT_URLCONF = "bench.peer"
