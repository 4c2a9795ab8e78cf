"""Schemathesis fuzzes the API against its own OpenAPI schema on a real server.

No 5xx, every status and content type documented, every JSON body as the schema says.
Bounded and derandomized, so the run is repeatable.
"""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
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
