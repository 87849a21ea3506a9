"""docker-compose.yml, checked without a Docker engine: the compose-spec schema (vendored by
check-jsonschema) and the rules an operator relies on."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
LONG_RUNNING = ("postgres", "redis", "web", "api", "worker", "beat", "flower", "nginx")
SCALED = ("web", "api", "worker")
APP = ("migrate", "web", "api", "worker", "beat", "flower")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_file_matches_the_compose_spec() -> None:
    result = subprocess.run(
        [Path(sys.executable).parent / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_long_running_service_has_a_health_check_and_a_grace_period(services) -> None:
    for name in LONG_RUNNING:
        service = services[name]
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} has no health check"
        assert service.get("stop_grace_period"), f"{name} has no stop grace period"
    assert "celery" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_dependencies_wait_for_health_not_for_start(services) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for dependency, rule in depends.items():
            wanted = "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            assert rule["condition"] == wanted, f"{name} -> {dependency}: {rule}"


def test_scaled_services_have_no_fixed_name_or_host_port(services) -> None:
    for name in SCALED:
        assert "container_name" not in services[name]
        assert "ports" not in services[name]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["nginx"]


def test_no_secret_is_written_in_the_file(services) -> None:
    text = COMPOSE.read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH"):
        assert f"${{{secret}:?" in text, f"{secret} must come from the env file"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
    example = (ROOT / ".env.example").read_text()
    for variable in ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH", "METRICS_TOKEN"):
        assert f"\n{variable}=" in example, f"{variable} is not documented in .env.example"


def test_app_services_name_their_settings_and_the_proxy_count(services) -> None:
    for name in APP:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert "NUM_PROXIES" in environment
        assert "False" not in str(environment.get("SESSION_COOKIE_SECURE", ""))


def test_redis_persists_the_broker_queue(services) -> None:
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command
    assert any(volume.endswith(":/data") for volume in services["redis"]["volumes"])


def test_daphne_trusts_the_proxy_headers(services) -> None:
    assert "--proxy-headers" in services["web"]["command"]
    assert "HEALTHCHECK" in (ROOT / "docker" / "Dockerfile").read_text()


def test_the_health_check_script_fails_when_nothing_answers() -> None:
    script = ROOT / "docker" / "healthcheck.py"
    down = subprocess.run([sys.executable, script, "http", "1", "/healthz"], capture_output=True, timeout=30)
    assert down.returncode == 1
    stale = subprocess.run([sys.executable, script, "fresh", str(ROOT / "no-such-file*"), "60"], timeout=30)
    assert stale.returncode == 1
    fresh = subprocess.run([sys.executable, script, "fresh", str(COMPOSE), "1e12"], timeout=30)
    assert fresh.returncode == 0


def test_flower_is_reached_only_through_nginx_behind_basic_auth(services) -> None:
    """Flower listens on the compose network only (no host port; nginx is the one service that
    publishes), always with basic auth; nginx refuses its unauthenticated endpoints
    (tests/deploy/test_nginx.py)."""
    flower = services["flower"]
    assert "ports" not in flower and "expose" not in flower
    assert "--basic-auth=" in " ".join(flower["command"])
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
