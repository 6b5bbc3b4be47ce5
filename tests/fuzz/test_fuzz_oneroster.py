"""A bounded schemathesis run over the OneRoster provider's OpenAPI (1.1, 1.2, OAuth token):
no 5xx, responses as documented (status, content type, headers, bodies), negative data
refused, and every 4xx carrying its error payload with a description — with a real client's
bearer token, without one, and with a forged one."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from fuzz_provider import V12, error_payload, real_ids
from openapi_fuzz import Served, Summary, fuzz, load
from schemathesis import GenerationMode

SEED = 20261202
#: Examples per operation and generation mode: the file stays well under a minute.
EXAMPLES = 3


def _assert_clean(summary: Summary) -> None:
    assert summary.operations > 0
    assert not summary.failures, "\n".join(
        f"{f.operation}: [{f.kind}] {f.message}\n    {f.request}" for f in summary.failures
    )


def test_fuzz_with_a_real_bearer_token(served: Served) -> None:
    schema = load(served.url)
    summary = fuzz(
        schema,
        served.url,
        headers={"Authorization": f"Bearer {served.token}"},
        max_examples=EXAMPLES,
        seed=SEED,
        error_payload=error_payload,
        path_values=real_ids(served),
    )
    _assert_clean(summary)
    # the token and the real IDs worked: pages and objects were served and checked
    assert summary.statuses[200] > summary.operations


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-auth"),
        pytest.param({"Authorization": "Bearer forged-token"}, id="forged-bearer"),
        pytest.param({"Authorization": "Basic Zm9vOmJhcg=="}, id="wrong-scheme"),
        pytest.param({"Authorization": "Bearer caf\xe9\xff"}, id="latin1-bearer"),
        pytest.param(
            {"Authorization": 'OAuth oauth_consumer_key="\xe9", oauth_signature="x"'},
            id="latin1-oauth1",
        ),
    ],
)
def test_fuzz_without_valid_auth_is_refused_cleanly(
    served: Served, headers: dict[str, str]
) -> None:
    schema = load(served.url)
    summary = fuzz(
        schema,
        served.url,
        headers=headers,
        max_examples=1,
        seed=SEED,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        error_payload=error_payload,
        operations=lambda label: "/oauth/token" not in label,
    )
    _assert_clean(summary)
    assert set(summary.statuses) <= {400, 401, 404}, summary.statuses
    assert summary.statuses[401] > 0


def test_the_checks_catch_a_schema_that_lies(served: Served) -> None:
    """The run can fail: against a copy of the schema that hides the 404 of single objects
    and says users are integers, the same requests are reported as violations."""
    raw = httpx.get(served.url + "/openapi.json").json()
    single = raw["paths"][f"{V12}/users/{{id}}"]["get"]
    del single["responses"]["404"]
    raw["components"]["schemas"]["OneRoster1p2User"]["properties"]["givenName"] = {
        "type": "integer"
    }
    schema = schemathesis.openapi.from_dict(raw)
    summary = fuzz(
        schema,
        served.url,
        headers={"Authorization": f"Bearer {served.token}"},
        max_examples=3,
        seed=SEED,
        modes=[GenerationMode.POSITIVE],
        operations=lambda label: label in (f"GET {V12}/users/{{id}}", f"GET {V12}/users"),
        path_values=real_ids(served),
    )
    kinds = {(f.operation, f.kind) for f in summary.failures}
    assert (f"GET {V12}/users/{{id}}", "UndefinedStatusCode") in kinds, kinds
    assert (f"GET {V12}/users", "JsonSchemaError") in kinds, kinds
