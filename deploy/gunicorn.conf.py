"""gunicorn's settings, for compose (`--config deploy/gunicorn.conf.py`) and the systemd unit.

Metrics: every worker process writes its samples to PROMETHEUS_MULTIPROC_DIR, and /metrics,
whichever worker serves it, adds them up (prometheus_client's multiprocess mode). The
directory is emptied when the master starts, so a restart does not count the last run's
requests twice, and a worker that exits is marked dead so its gauges stop counting.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Set before any worker imports prometheus_client, which reads it at import time.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "oddstream-prometheus"))

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# Workers that are killed mid-request (the timeout) are logged with the request's path.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# The path without the query string: no token or key in the access log.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
# Only nginx (or the compose network) reaches gunicorn: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server: Any) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
