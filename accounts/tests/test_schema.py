"""The OpenAPI schema describes every endpoint of the API with its error responses."""

import pytest

pytestmark = pytest.mark.django_db

DESCRIBED = {
    "/api/auth/register/": ["post"],
    "/api/auth/token/": ["post"],
    "/api/auth/token/refresh/": ["post"],
    "/api/auth/logout/": ["post"],
    "/api/auth/password-reset/": ["post"],
    "/api/auth/password-reset/confirm/": ["post"],
    "/api/me/": ["get"],
    "/api/wallet/": ["get"],
    "/api/wallet/ledger/": ["get"],
    "/api/matches/": ["get", "post"],
    "/api/matches/{id}/": ["get"],
    "/api/matches/{id}/odds-history/": ["get"],
    **{f"/api/matches/{{id}}/{action}/": ["post"] for action in ("open", "suspend", "close", "settle", "void")},
    "/api/bets/": ["get", "post"],
    "/api/bets/{id}/": ["get"],
}


def test_every_endpoint_is_in_the_schema_with_its_errors(api_client) -> None:
    reply = api_client.get("/api/schema/?format=json")
    assert reply.status_code == 200
    paths = reply.json()["paths"]
    for path, methods in DESCRIBED.items():
        assert path in paths, path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert any(code.startswith("4") for code in responses), f"{method} {path} describes no error"
    bet_errors = paths["/api/bets/"]["post"]["responses"]
    assert {"201", "400", "401", "409", "422", "428", "429"} <= set(bet_errors)
    key = next(p for p in paths["/api/bets/"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True


def test_interactive_docs_are_served(api_client) -> None:
    reply = api_client.get("/api/docs/")
    assert reply.status_code == 200 and b"swagger" in reply.content.lower()
