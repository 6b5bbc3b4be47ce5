"""District configurations for one PowerSchool source (a simulator)."""

from __future__ import annotations

from typing import Any

import pytest

from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


def powerschool_config(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    district: str = "Springfield Public Schools",
    secret: str = DEFAULT_CLIENT_SECRET,
    **advanced: Any,
) -> dict[str, Any]:
    """A one-source PowerSchool configuration body; the secret goes through an env variable."""
    monkeypatch.setenv("PS_CLIENT_SECRET", secret)
    return {
        "district": district,
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": "env:PS_CLIENT_SECRET",
                },
                "connector": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.1},
                "advanced": {"compare_by_uniqueness": False, **advanced},
                "attribute_mapping": {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}},
            }
        ],
    }
