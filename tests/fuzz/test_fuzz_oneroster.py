"""A bounded schemathesis run over the OneRoster provider's OpenAPI (1.1, 1.2, OAuth token):
no 5xx, responses as documented (status, content type, headers, bodies), negative data
refused, and every 4xx carrying its error payload with a description — with a real client's
bearer token, without one, and with a forged one."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_fuzz import Served, Summary, fuzz, load
from schemathesis import Case

SEED = 20261202
#: Examples per operation and generation mode: the file stays well under a minute.
EXAMPLES = 4
V11 = "/ims/oneroster/v1p1"


def error_payload(case: Case, response: Any) -> str | None:
    """The provider's 4xx rule: imsx status info (1.1 in statusInfoSet) or an OAuth error,
    each with a non-empty description."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} with a body that is not JSON: {response.text[:100]!r}"
    if case.path == "/oauth/token":
        ok = isinstance(body, dict) and bool(body.get("error_description"))
        return None if ok else f"OAuth error without error_description: {body!r}"[:300]
    if case.path.startswith(V11 + "/"):
        infos = body.get("statusInfoSet") if isinstance(body, dict) else None
        info = infos[0] if isinstance(infos, list) and infos else None
    else:
        info = body
    if not isinstance(info, dict) or not info.get("imsx_description"):
        return f"{response.status_code} without imsx_description: {body!r}"[:300]
    minor = info.get("imsx_CodeMinor", {}).get("imsx_codeMinorField", [{}])[0]
    if not minor.get("imsx_codeMinorFieldValue"):
        return f"{response.status_code} without a code minor: {body!r}"[:300]
    return None


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
    )
    print(summary.to_dict())
    _assert_clean(summary)
    assert summary.statuses[200] > 0  # the token worked: real pages were served and checked


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-auth"),
        pytest.param({"Authorization": "Bearer forged-token"}, id="forged-bearer"),
        pytest.param({"Authorization": "Basic Zm9vOmJhcg=="}, id="wrong-scheme"),
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
        max_examples=2,
        seed=SEED,
        error_payload=error_payload,
        operations=lambda label: "/oauth/token" not in label,
    )
    _assert_clean(summary)
    assert set(summary.statuses) <= {400, 401, 404}, summary.statuses
    assert summary.statuses[401] > 0
