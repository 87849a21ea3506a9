"""JSON bodies nested past JSON_MAX_DEPTH are a 400 with the usual error body on every JSON
endpoint, never the decoder's RecursionError (a 500, and DEBUG's page under `make run`)."""

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from betting.tests.factories import new_bet_key
from blog.tests.factories import PostFactory
from config.parsers import JSONNestedTooDeeply, json_loads_bounded, json_nesting_depth
from inplay.credentials import feed_provider_token_issue
from payments.providers.base import SIGNATURE_HEADER, callback_signature
from payments.tests.doubles import PROVIDERS as PAYMENT_PROVIDERS
from payments.tests.doubles import SECRET as PAYMENT_SECRET

DEEP_ARRAY = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000
HOSTILE_BODIES = {
    "array": DEEP_ARRAY,
    "object": DEEP_OBJECT,
    "unclosed": "[" * 100_000,
    "in a field": '{"match": 1, "selection": "home", "stake": "1.00", "odds": ' + DEEP_ARRAY + "}",
}


def reference_depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(reference_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(reference_depth, value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_the_measured_depth_is_the_nesting_depth_whatever_the_strings_hold(value) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert json_nesting_depth(text) == reference_depth(value)
    assert json_nesting_depth(json.dumps(value)) == reference_depth(value)


@given(st.text(alphabet='[]{}"\\,:a1 ', max_size=60))
def test_any_text_is_measured_without_error(text) -> None:
    assert json_nesting_depth(text) >= 0


def test_the_bound_is_refused_before_decoding_and_is_a_value_error() -> None:
    assert json_loads_bounded("[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(JSONNestedTooDeeply, match="nested 4 levels deep; at most 3"):
        json_loads_bounded("[[[[1]]]]", max_depth=3)
    with pytest.raises(ValueError):  # what a view reading JSON by hand already catches
        json_loads_bounded(DEEP_ARRAY.encode())
    assert json_loads_bounded('["[[[[[[[[", {"k": "}}}}"}]', max_depth=2) == ["[[[[[[[[", {"k": "}}}}"}]


@pytest.fixture
def json_endpoints(staff_client, match, settings) -> list[str]:
    """Every operation of the OpenAPI schema that takes a body, with its path's parameters
    filled in with rows that exist (the post is the staff member's own, the payment provider
    one that sends callbacks), so that each view gets as far as reading the body."""
    settings.PAYMENT_PROVIDERS = PAYMENT_PROVIDERS
    post = PostFactory(author=staff_client.handler._force_user)
    schema = staff_client.get("/api/schema/?format=json").json()
    endpoints = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                concrete = path.replace("{id}", str(post.pk if path.startswith("/api/posts/") else match.pk))
                endpoints.append(f"{method.upper()} {concrete.replace('{provider}', 'psp')}")
    assert len(endpoints) >= 10, endpoints
    return endpoints


def signed(body: str) -> dict[str, str]:
    """A provider callback's signature: its body is read by hand once the signature checks."""
    return {SIGNATURE_HEADER: callback_signature(secret=PAYMENT_SECRET, body=body.encode(), timestamp=int(time.time()))}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_every_json_endpoint_answers_400_to_a_deeply_nested_body(staff_client, json_endpoints, kind) -> None:
    body = HOSTILE_BODIES[kind]
    feed_client = APIClient()  # the feed takes a provider's token, not a user's credentials
    feed_client.credentials(HTTP_AUTHORIZATION=f"Feed {feed_provider_token_issue(name='deep-json')}")
    for endpoint in json_endpoints:
        method, path = endpoint.split(" ")
        # Signed for the payment callbacks, and with the Idempotency-Key bet placement requires
        # (the other views ignore it): every view gets as far as reading the body.
        headers = signed(body) if "/callbacks/" in path else {"Idempotency-Key": "deep-json"}
        client = feed_client if path.startswith("/api/feed/") else staff_client
        reply = client.generic(method, path, body, content_type="application/json", headers=headers)
        assert reply.status_code == 400, (endpoint, reply.status_code, reply.content[:300])
        error = reply.json()
        assert error["code"] == "malformed" and set(error) == {"code", "detail", "errors"}, (endpoint, error)


@pytest.mark.django_db
def test_an_anonymous_deep_body_is_a_400_on_the_sign_in_and_sign_up(api_client) -> None:
    for path in ("/api/auth/token/", "/api/auth/register/", "/api/auth/password-reset/"):
        reply = api_client.post(path, DEEP_OBJECT, content_type="application/json")
        assert reply.status_code == 400 and reply.json()["code"] == "malformed", path


@pytest.mark.django_db
def test_a_body_as_deep_as_allowed_still_reaches_the_view(user_client, settings) -> None:
    settings.JSON_MAX_DEPTH = 3
    reply = user_client.post("/api/bets/", '{"match": {"a": [1]}}', content_type="application/json", **new_bet_key())
    assert reply.status_code == 400 and reply.json()["code"] == "invalid"  # the serializer's refusal
    reply = user_client.post("/api/bets/", '{"match": {"a": [[1]]}}', content_type="application/json", **new_bet_key())
    assert reply.json()["code"] == "malformed"
