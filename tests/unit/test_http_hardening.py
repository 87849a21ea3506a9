"""Every response carries Permissions-Policy, and methods the site does not use (TRACE,
CONNECT, anything unknown) are refused with 405 before a view runs."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = ["/", "/api/matches/", "/api/nowhere/", "/accounts/login/", "/static/frontend/css/oddstream.css", "/healthz"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_unused_methods_are_refused_everywhere(path, method) -> None:
    reply = Client().generic(method, path)
    assert reply.status_code == 405, (method, path, reply.status_code)
    assert "TRACE" not in reply["Allow"] and "GET" in reply["Allow"]
    assert reply["Permissions-Policy"]
    if path.startswith("/api/"):
        assert reply.json() == {"code": "method_not_allowed", "detail": f'Method "{method}" not allowed.'}
    else:
        assert b"Cookie" not in reply.content  # TRACE's echo of the request never happens


def test_trace_does_not_echo_the_request_or_reach_a_view() -> None:
    reply = Client().generic("TRACE", "/", HTTP_COOKIE="sessionid=secret")
    assert reply.status_code == 405 and b"secret" not in reply.content


@pytest.mark.parametrize("path", PATHS)
def test_every_response_denies_the_browser_features_the_pages_never_use(path, settings) -> None:
    reply = Client().get(path)
    policy = reply["Permissions-Policy"]
    assert policy == settings.PERMISSIONS_POLICY
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_methods_the_site_uses_still_work(user_client) -> None:
    assert Client().head("/").status_code == 200
    assert Client().options("/api/matches/").status_code == 200
    assert user_client.get("/api/me/").status_code == 200
