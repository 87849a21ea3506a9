"""The runtime group holds what production imports, and nothing only the benchmarks need."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Where production code lives: everything but the benchmarks and the tests.
RUNTIME_PACKAGES = ("accounts", "betting", "blog", "config", "frontend", "ops", "realtime", "workers")


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[=<>;! ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def imports_of(module: str) -> list[Path]:
    pattern = re.compile(rf"^\s*(?:import|from) {module}\b", re.MULTILINE)
    return [
        path
        for package in RUNTIME_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts and pattern.search(path.read_text())
    ]


def test_channels_redis_is_a_benchmark_baseline_not_a_runtime_dependency() -> None:
    assert "channels-redis" not in names(PYPROJECT["project"]["dependencies"])
    assert "channels-redis" in names(PYPROJECT["dependency-groups"]["dev"])
    assert imports_of("channels_redis") == []


def test_what_the_hub_imports_is_pinned_in_the_runtime_group() -> None:
    runtime = names(PYPROJECT["project"]["dependencies"])
    for module, distribution in (("msgpack", "msgpack"), ("redis", "redis")):
        assert imports_of(module), f"{module} is no longer imported: drop it from the runtime group"
        assert distribution in runtime, f"{module} is imported by production code but not a runtime dependency"
