"""Run the benchmarks: `python -m bench` (all) or `python -m bench engine delivery` (some)."""

import importlib
import os
import pkgutil
import signal
import sys
import time

import django


def main(argv: list[str]) -> int:
    # SIGTERM (a `kill`, a CI timeout) unwinds like Ctrl-C, so every benchmark's `finally`
    # stops the servers it started instead of leaving them running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    import bench

    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = set(wanted) - set(names)
    if unknown:
        print(f"Unknown benchmarks {sorted(unknown)}; available: {names}")
        return 2
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").main()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
