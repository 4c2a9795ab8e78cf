"""Schemathesis fuzzes the API against its own OpenAPI schema on a real server.

No 5xx, every status and content type documented, every JSON body as the schema says.
Bounded and derandomized, so the run is repeatable.
"""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.keys import api_key_create

# Generated in-process at collection time; a round-trip through JSON gives plain types.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SchemaGenerator().get_schema(public=True))))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_key(transactional_db) -> str:
    key, raw_key = api_key_create(name="fuzzer", trusted_channel=True)
    key.requests_per_minute = 0
    key.save()
    return raw_key


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, live_server_url, fuzz_key, demo_bank):
    case.call_and_validate(
        base_url=live_server_url,
        headers={"Authorization": f"Bearer {fuzz_key}"},
        checks=CHECKS,
        timeout=30,
    )


def test_the_schema_is_served(live_server_url, transactional_db):
    import httpx

    document = httpx.get(f"{live_server_url}/api/schema").json()

    assert document["openapi"].startswith("3.")
    assert {"/v1/chat/completions", "/api/chat/completions", "/v1/models"} <= set(document["paths"])


# Beyond the schema: each known field given any JSON value (type confusion), JSON nested
# at and past FINTALK_MAX_JSON_DEPTH, in known and ignored fields.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_FIELDS = [
    "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens", "max_completion_tokens",
    "stop", "n", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "phone_number",
    "customer", "call", "metadata",
]
_MESSAGE_FIELDS = ["role", "content", "name", "tool_calls", "tool_call_id", "refusal"]


def _nested(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth if depth % 2 else '{"a":' * depth + inner + "}" * depth


@st.composite
def _hostile_bodies(draw) -> bytes:
    body: dict = {"messages": [{"role": "user", "content": "hello"}], "stream": False}
    kind = draw(st.sampled_from(["field", "message-field", "nested"]))
    if kind == "field":
        body[draw(st.sampled_from(_FIELDS))] = draw(_JSON)
    elif kind == "message-field":
        body["messages"][0][draw(st.sampled_from(_MESSAGE_FIELDS))] = draw(_JSON)
    else:
        depth = draw(st.integers(min_value=50, max_value=3000))
        where = draw(st.sampled_from(["metadata", "call", "messages"]))
        text = json.dumps(body)[:-1] + f', "{where}": {_nested(depth, "1")}}}'
        return text.encode()
    return json.dumps(body).encode()


@given(body=_hostile_bodies())
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_type_confused_and_nested_bodies_get_a_2xx_or_a_clear_4xx(body, live_server_url, fuzz_key, demo_bank):
    import httpx

    response = httpx.post(
        f"{live_server_url}/v1/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {fuzz_key}", "Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(("application/json", "text/event-stream"))
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
