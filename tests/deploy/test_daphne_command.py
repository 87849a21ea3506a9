"""Every place that starts Daphne starts it the same way: `python -m config.daphne`, which adds the
project's options (the incoming frame limits) from the settings, so no file hard-codes them and
none can drift. A Daphne started any other way would read frames up to 1 MiB."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from daphne.cli import CommandLineInterface
from daphne.utils import parse_x_forwarded_for
from django.conf import settings

from config.daphne import daphne_args

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ["python", "-m", "config.daphne"]


def procfile_web() -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return shlex.split(line.removeprefix("web:"))


def dockerfile_cmd() -> list[str]:
    line = next(line for line in (ROOT / "docker" / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return yaml.safe_load(line.removeprefix("CMD "))


def compose_web() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["web"]["command"]


def systemd_exec_start() -> list[str]:
    unit = (ROOT / "deploy" / "systemd" / "oddstream-daphne@.service").read_text()
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    command = shlex.split(line.removeprefix("ExecStart="))
    return [Path(command[0]).name, *command[1:]]  # /opt/oddstream/.venv/bin/python -> python


def harness_start_web() -> list[str]:
    source = (ROOT / "tests" / "integration" / "harness.py").read_text()
    found = re.search(r'\[str\(BIN / "python"\), ("-m", "config\.daphne"),', source)
    return ["python", "-m", "config.daphne"] if found else []


STARTERS = {
    "Procfile": procfile_web,
    "docker/Dockerfile": dockerfile_cmd,
    "docker-compose.yml": compose_web,
    "deploy/systemd/oddstream-daphne@.service": systemd_exec_start,
    "tests/integration/harness.py": harness_start_web,
}


def test_every_daphne_is_started_through_the_project_command() -> None:
    for where, command_of in STARTERS.items():
        command = command_of()
        assert command[:3] == LAUNCHER, f"{where} starts {command[:3]}, not {' '.join(LAUNCHER)}"
        assert not any(arg.startswith("--websocket-max-") for arg in command), f"{where} sets its own limits"


def test_no_file_that_starts_daphne_hard_codes_a_frame_limit() -> None:
    for where in STARTERS:
        assert "65536" not in (ROOT / where).read_text(), where


def test_the_command_gives_daphne_the_settings_frame_limits() -> None:
    parsed = CommandLineInterface().parser.parse_args(daphne_args(["-b", "127.0.0.1", "config.asgi:application"]))
    assert parsed.websocket_max_message_size == settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE == 64 * 1024
    assert parsed.websocket_max_frame_size == settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE == 64 * 1024
    assert parsed.application == "config.asgi:application"


PROXY_SNIPPET = ROOT / "deploy" / "nginx" / "snippets" / "oddstream-proxy.conf"


def behind_proxy() -> dict[str, list[str]]:
    """The starters that run Daphne behind nginx (the Procfile's local Daphne is reached directly)."""
    commands = {where: command_of() for where, command_of in STARTERS.items()}
    return {where: command for where, command in commands.items() if "--proxy-headers" in command}


def client_address(command: list[str], headers: dict[bytes, bytes]) -> str:
    """The address Daphne gives a connection's scope (the one the socket caps count) when
    started with `command` and sent `headers` by nginx from 10.0.0.2."""
    cli = CommandLineInterface()
    argv = [arg.replace("%i", "8000") for arg in command[3:]]  # the systemd unit's instance: its port
    parsed = cli.parser.parse_args(daphne_args(argv))
    (address, _port), _scheme = parse_x_forwarded_for(
        headers, address_header_name=cli._get_forwarded_host(parsed), original_addr=["10.0.0.2", 1234]
    )
    return address


def test_daphne_behind_nginx_reads_the_address_nginx_sets_not_the_clients() -> None:
    """nginx appends to X-Forwarded-For, whose leftmost entry (what Daphne's --proxy-headers
    reads) the client writes; it sets X-Real-IP to the connection's address, which Daphne reads."""
    snippet = PROXY_SNIPPET.read_text()
    header = settings.DAPHNE_PROXY_ADDRESS_HEADER
    assert re.search(rf"^proxy_set_header {re.escape(header)} \$remote_addr;", snippet, re.M)
    # The WebSocket locations add no proxy_set_header of their own, which would drop the snippet's.
    for site in (ROOT / "docker" / "nginx.conf", ROOT / "deploy" / "nginx" / "oddstream.conf"):
        ws = re.search(r"location /ws/ \{([^}]*)\}", site.read_text())
        assert ws and "proxy_set_header" not in ws.group(1), site
    proxied = {"docker/Dockerfile", "docker-compose.yml", "deploy/systemd/oddstream-daphne@.service"}
    assert set(behind_proxy()) == proxied
    # What nginx forwards for a client at 203.0.113.7 that wrote its own X-Forwarded-For.
    spoofed = {b"x-forwarded-for": b"198.51.100.1, 203.0.113.7", header.lower().encode(): b"203.0.113.7"}
    for where, command in behind_proxy().items():
        assert client_address(command, spoofed) == "203.0.113.7", where
