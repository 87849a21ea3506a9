"""`systemd-analyze verify` on the units of deploy/systemd/. The units name /opt/oddstream (the
checkout on the server); here they are verified with that path mapped to this checkout, whose
.venv holds the same executables. Skipped with a message where systemd-analyze is missing."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALL_DIR = "/opt/oddstream"


def verify(directory: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("systemd-analyze")
    if binary is None:
        pytest.skip("systemd-analyze is not installed: the systemd units are not verified here")
    return subprocess.run(
        [binary, "verify", "--man=no", *(str(directory / name) for name in names)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def mapped_units(target: Path) -> list[str]:
    names = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text().replace(INSTALL_DIR, str(ROOT))
        # A template is verified through an instance of it, as it runs (the seed's port).
        name = unit.name.replace("@.", "@8002.")
        (target / name).write_text(text)
        names.append(name)
    return names


def test_units_verify(tmp_path) -> None:
    if not (ROOT / ".venv" / "bin" / "celery").exists():
        pytest.skip("no .venv in this checkout: the units' executables cannot be resolved")
    result = verify(tmp_path, mapped_units(tmp_path))
    # Any message about one of our files is a problem, even one systemd only warns about.
    ours = [line for line in (result.stdout + result.stderr).splitlines() if str(tmp_path) in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr


def test_verify_catches_a_broken_unit(tmp_path) -> None:
    broken = (UNITS / "oddstream-worker.service").read_text().replace("Type=simple", "Type=bogus")
    (tmp_path / "oddstream-worker.service").write_text(broken.replace(INSTALL_DIR, str(ROOT)))
    result = verify(tmp_path, ["oddstream-worker.service"])
    assert "bogus" in result.stdout + result.stderr


def test_every_process_has_a_unit_with_the_environment_file() -> None:
    for name in ("gunicorn", "daphne@", "worker", "beat", "flower"):
        unit = next(UNITS.glob(f"oddstream-{name}*.service"))
        text = unit.read_text()
        assert "EnvironmentFile=/etc/oddstream/oddstream.env" in text, unit.name
        assert "DJANGO_SETTINGS_MODULE=config.settings.production" in text, unit.name
    assert "Type=notify" in (UNITS / "oddstream-gunicorn.service").read_text()
    assert "--proxy-headers" in (UNITS / "oddstream-daphne@.service").read_text()


def test_flower_listens_on_localhost_with_basic_auth() -> None:
    unit = (UNITS / "oddstream-flower.service").read_text()
    assert "--address=127.0.0.1" in unit and "--basic-auth=${FLOWER_BASIC_AUTH}" in unit
    procfile = (UNITS.parents[1] / "Procfile").read_text()
    flower = next(line for line in procfile.splitlines() if line.startswith("flower:"))
    assert "--address=127.0.0.1" in flower and "--basic-auth=${FLOWER_BASIC_AUTH:?" in flower
