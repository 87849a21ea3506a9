"""Operations against real processes: gunicorn with several workers (deploy/gunicorn.conf.py),
a Daphne, a Celery worker, Redis. /metrics adds up every gunicorn worker and every hub, and one
request id follows a bet from the HTTP request through the task to the publish."""

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import BIN, ManagedProcess, Stack, bearer_headers, new_bet_key
from workers.embedded_redis import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TOKEN = f"metrics-{uuid.uuid4().hex}"
DEMO = ("demo@oddstream.local", "demo-password")


class Running:
    def __init__(self, worker: ManagedProcess, gunicorn: ManagedProcess, http: str, ws: str, metrics_dir: Path):
        self.worker, self.gunicorn, self.http, self.ws, self.metrics_dir = worker, gunicorn, http, ws, metrics_dir

    def scrape(self) -> dict:
        response = httpx.get(f"{self.http}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 200, response.text
        return {f.name: f for f in text_string_to_metric_families(response.text)}


def sample(families: dict, name: str, **labels: str) -> float:
    return sum(
        s.value
        for f in families.values()
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture(scope="module")
def running(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Running:
    stack.env.update(LOG_FORMAT="json", METRICS_TOKEN=TOKEN, REALTIME_PRESENCE_REFRESH_SECONDS="0.5")
    worker = stack.start_worker()
    _, ws_port = stack.start_web()
    metrics_dir = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    stack.env.update(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), GUNICORN_WORKERS="2")
    gunicorn = stack._spawn(
        "gunicorn",
        [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "config.wsgi"],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise RuntimeError("gunicorn did not start:\n" + "\n".join(gunicorn.lines[-40:]))
    return Running(worker, gunicorn, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{ws_port}", metrics_dir)


def test_metrics_add_up_every_gunicorn_worker(running: Running) -> None:
    labels = {"method": "GET", "status": "404"}
    before = sample(running.scrape(), "oddstream_http_request_duration_seconds_count", **labels)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: httpx.get(f"{running.http}/no-such-page/{i}/").status_code, range(40)))
    assert statuses == [404] * 40
    after = sample(running.scrape(), "oddstream_http_request_duration_seconds_count", **labels)
    assert after - before == 40
    # Every worker that served wrote its own file; the scrape read them all.
    assert len({p.stem.rsplit("_", 1)[-1] for p in running.metrics_dir.glob("histogram_*.db")}) >= 1


def test_metrics_are_not_public(running: Running) -> None:
    assert httpx.get(f"{running.http}/metrics").status_code == 401


def test_hub_counters_reach_metrics_served_by_another_process(running: Running) -> None:
    before = running.scrape()
    opened = sample(before, "oddstream_websocket_connections_opened_total")

    async def connect() -> None:
        async with websockets.connect(f"{running.ws}/ws/odds/") as socket:
            json.loads(await asyncio.wait_for(socket.recv(), 10))  # the snapshot

    asyncio.run(connect())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        families = running.scrape()
        if sample(families, "oddstream_websocket_connections_opened_total") >= opened + 1:
            assert sample(families, "oddstream_hub_deliveries_total") >= 0
            return
        time.sleep(0.5)
    raise AssertionError("Daphne's hub counters never reached gunicorn's /metrics")


def test_one_request_id_from_the_bet_to_the_publish(running: Running) -> None:
    rid = f"bet-{uuid.uuid4().hex[:16]}"
    match = httpx.get(f"{running.http}/api/matches/").json()["results"][0]
    reply = httpx.post(
        f"{running.http}/api/bets/",
        json={"match": match["id"], "selection": "away", "stake": "300.00", "accept_odds_change": "any"},
        headers={"X-Request-ID": rid, **bearer_headers(running.http, *DEMO), **new_bet_key()},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["X-Request-ID"] == rid

    def records(process: ManagedProcess) -> list[dict]:
        found = []
        for line in list(process.lines):
            try:
                entry = json.loads(line[line.index("{") :])
            except ValueError:
                continue
            if entry.get("request_id") == rid:
                found.append(entry)
        return found

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        published = [r for r in records(running.worker) if r["message"].startswith("Published odds")]
        if published:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no publish logged with the request id:\n" + "\n".join(running.worker.lines[-30:]))
    assert published[0]["match"] == match["id"]
    assert any(r.get("path") == "/api/bets/" and r.get("status") == 201 for r in records(running.gunicorn))
