"""The Content-Security-Policy header and the self-hosted API docs, without a browser (the browser
test, tests/browser/test_content_security_policy.py, loads every page under the policy)."""

import re

import drf_spectacular_sidecar
import pytest
from django.test import Client

from config.api_docs import REDOCLY_LOGO

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(rb"""(?:src|href)=["'](?:https?:)?//""")


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_pages_allow_only_the_site_itself_and_its_own_websocket_origin(client: Client) -> None:
    policy = directives(client.get("/accounts/login/")["Content-Security-Policy"])
    for name in ("default-src", "script-src", "style-src", "img-src", "font-src"):
        assert policy[name] == ["'self'"], name
    assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_a_page_served_over_https_may_open_only_wss(client: Client) -> None:
    policy = directives(client.get("/accounts/login/", secure=True)["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'", "wss://testserver"]


def test_the_api_and_its_errors_carry_the_policy_too(client: Client) -> None:
    assert "script-src 'self'" in client.get("/api/matches/")["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/api/no-such-endpoint/")["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script", "/api/redoc/"])
def test_the_api_docs_load_nothing_from_another_host(client: Client, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 200
    assert not EXTERNAL.search(reply.content), reply.content.decode()[:2000]
    assert b"cdn" not in reply.content.lower()


def test_swagger_ui_comes_from_the_sidecar_and_starts_without_an_inline_script(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert '<script src="/api/docs/?script="></script>' in page
    assert re.search(r"<script>|<style>", page) is None
    assert "SwaggerUIBundle(" in client.get("/api/docs/?script").content.decode()


def test_redoc_is_served_from_the_sidecar_without_redoclys_logo(client: Client) -> None:
    page = client.get("/api/redoc/").content.decode()
    assert f'<script src="/api/redoc/?bundle={drf_spectacular_sidecar.__version__}"></script>' in page
    assert re.search(r"<script>|<style>", page) is None
    bundle = client.get("/api/redoc/", {"bundle": drf_spectacular_sidecar.__version__})
    assert bundle["Content-Type"].startswith("application/javascript")
    body = b"".join(bundle.streaming_content) if bundle.streaming else bundle.content
    assert len(body) > 100_000 and REDOCLY_LOGO not in body and b"cdn.redoc.ly" not in body
