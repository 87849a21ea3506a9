"""Container health checks, standard library only (the image has no curl).

    python docker/healthcheck.py                      # GET http://127.0.0.1:8000/healthz (the image's HEALTHCHECK)
    python docker/healthcheck.py http PORT PATH       # another port or path (Flower)
    python docker/healthcheck.py fresh PATTERN SECONDS  # a file matching PATTERN changed that recently (beat)

The HTTP check sends the first of ALLOWED_HOSTS as Host and says the request came over HTTPS,
so production's host check and HTTPS redirect answer it as they answer a client behind nginx.
Celery beat rewrites its schedule file at least every few minutes while it runs; a file that
stops changing is a beat that stopped ticking.
"""

import glob
import os
import sys
import time
import urllib.request


def check_http(port: str = "8000", path: str = "/healthz") -> int:
    host = (os.environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".")
    if not host or "*" in host:
        host = "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


def check_fresh(pattern: str, seconds: str) -> int:
    ages = [time.time() - os.path.getmtime(path) for path in glob.glob(pattern)]
    if ages and min(ages) < float(seconds):
        return 0
    print(f"unhealthy: nothing matching {pattern} changed in the last {seconds}s", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["fresh"]:
        return check_fresh(*argv[1:3])
    if argv[:1] == ["http"]:
        return check_http(*argv[1:3])
    return check_http(*argv[:2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
