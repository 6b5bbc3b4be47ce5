"""District configurations for one PowerSchool source (a simulator)."""

from __future__ import annotations

from typing import Any

import pytest

from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

#: The attribute mapping most tests use (a custom extension-table field for student email).
SCHOOL_EMAIL = {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}}


def powerschool_config(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    district: str = "Springfield Public Schools",
    secret: str = DEFAULT_CLIENT_SECRET,
    connector: dict[str, Any] | None = None,
    attribute_mapping: dict[str, Any] | None = SCHOOL_EMAIL,
    filter_rules: dict[str, Any] | None = None,
    webhook_url: str | None = None,
    **advanced: Any,
) -> dict[str, Any]:
    """A one-source PowerSchool configuration body; the secret goes through an env variable.

    ``connector`` options override the fast test backoff; ``attribute_mapping=None`` maps
    nothing; ``webhook_url`` adds a notifications section.
    """
    monkeypatch.setenv("PS_CLIENT_SECRET", secret)
    source: dict[str, Any] = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {
            "url": url,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": "env:PS_CLIENT_SECRET",
        },
        "connector": {
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 0.1,
            **(connector or {}),
        },
        "advanced": {"compare_by_uniqueness": False, **advanced},
    }
    if attribute_mapping is not None:
        source["attribute_mapping"] = attribute_mapping
    if filter_rules is not None:
        source["filter_rules"] = filter_rules
    body: dict[str, Any] = {"district": district, "sources": [source]}
    if webhook_url is not None:
        body["notifications"] = {"webhook_url": webhook_url}
    return body
