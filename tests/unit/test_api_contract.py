"""What the schemathesis run found, pinned as fast tests: replies and inputs as the schema says."""

import pytest

from betting.tests.factories import new_bet_key

pytestmark = pytest.mark.django_db


def assert_bad_request(reply, field: str) -> None:
    assert reply.status_code == 400, reply.content
    body = reply.json()
    assert body["code"] == "invalid" and field in body["errors"], body


def test_every_400_names_its_errors(user_client) -> None:
    reply = user_client.post("/api/bets/", data="\x00", content_type="application/json", **new_bet_key())
    assert reply.status_code == 400
    assert set(reply.json()) == {"code", "detail", "errors"} and reply.json()["code"] == "malformed"


def test_an_unknown_api_path_is_the_json_404(user_client) -> None:
    for path in ("/api/bets/abc/", "/api/matches/null,null/open/", "/api/nowhere/"):
        reply = user_client.get(path)
        assert reply.status_code == 404 and reply["Content-Type"] == "application/json", path
        assert reply.json()["code"] == "not_found"


def test_the_api_reads_json_only(user_client, match) -> None:
    reply = user_client.post(
        "/api/bets/", {"match": match.pk, "selection": "home", "stake": "1.00"}, format="multipart", **new_bet_key()
    )
    assert reply.status_code == 415 and reply.json()["code"] == "unsupported_media_type"


def test_values_of_the_wrong_json_type_are_refused(user_client, match) -> None:
    bet = {"match": match.pk, "selection": "home", "stake": "10.00"}
    assert_bad_request(user_client.post("/api/bets/", {**bet, "stake": 10}, **new_bet_key()), "stake")
    assert_bad_request(user_client.post("/api/bets/", {**bet, "match": str(match.pk)}, **new_bet_key()), "match")
    assert_bad_request(user_client.post("/api/bets/", {**bet, "stake": ""}, **new_bet_key()), "stake")
    assert_bad_request(user_client.post("/api/posts/", {"title": "T", "body": 0}), "body")


def test_quoted_odds_may_be_a_json_number_with_float_noise(user_client, match) -> None:
    price = float(match.current_prices["home"])
    reply = user_client.post(
        "/api/bets/", {"match": match.pk, "selection": "home", "stake": "10.00", "odds": price + 1e-12}, **new_bet_key()
    )
    assert reply.status_code == 201, reply.content


def test_an_empty_status_filter_is_refused(user_client) -> None:
    assert_bad_request(user_client.get("/api/bets/?status="), "status")
    assert_bad_request(user_client.get("/api/posts/?status="), "status")


def test_page_and_page_size_must_be_positive_integers(api_client) -> None:
    for query in ("page=", "page=0", "page=last", "page=abc"):
        assert api_client.get(f"/api/matches/?{query}").status_code == 404, query
    assert_bad_request(api_client.get("/api/posts/?page_size=null"), "page_size")
    assert api_client.get("/api/posts/?page=1&page_size=5").status_code == 200


def test_the_schema_says_who_may_call_what_and_types_markets(api_client) -> None:
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {} in paths["/api/matches/"]["get"]["security"]  # anyone may read the matches
    assert {} not in paths["/api/matches/"]["post"]["security"]
    assert schema["components"]["schemas"]["MatchOutput"]["properties"]["markets"]["type"] == "object"
    assert "415" in paths["/api/bets/"]["post"]["responses"]
