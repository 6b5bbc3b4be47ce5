"""Master fields: several sources into one roster, attribute by attribute by priority."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pipeline_factories import ids, load, roster, user

from rostersync.errors import ConfigurationError
from rostersync.pipeline import master_field_merge, run_pipeline

AD = {
    "name": "ad",
    "app": "powerschool",
    "delivery": {"url": "http://ad", "client_id": "x", "client_secret": "env:AD"},
}


def sources() -> dict[str, dict[str, pl.DataFrame]]:
    sis = roster(
        users=[
            user("u1", "student", "Ana", "Lopez", email="ana@sis.org", phone=None),
            user("u2", "student", "Bo", "Chen", email=None, phone="555"),
        ]
    )
    ad = roster(
        source="ad",
        users=[
            user(
                "u1", "student", "Anna", "Lopez", email="ana@ad.org", phone="777", username="alopez"
            ),
            user("u2", "student", "Bo", "Chen", email="bo@ad.org", username="bchen"),
            user("a9", "teacher", "Only", "InAd", email="x@ad.org"),
        ],
    )
    return {"sis": sis, "ad": ad}


def test_priorities_per_attribute(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        [{}, AD],
        master_fields={"users": {"email": ["ad", "sis"]}, "student": {"username": ["ad"]}},
    )
    out, report = master_field_merge(sources(), config)
    users = out["users"].sort("sourcedId")
    rows = {r["sourcedId"]: r for r in users.iter_rows(named=True)}
    assert set(rows) == {"a9", "u1", "u2"}
    assert rows["u1"]["email"] == "ana@ad.org"  # ad wins email
    assert rows["u1"]["givenName"] == "Ana"  # sis (first in `sources`) wins the rest
    assert rows["u1"]["phone"] == "777"  # ... and ad fills what sis leaves empty
    assert rows["u1"]["username"] == "alopez"
    assert rows["u2"]["email"] == "bo@ad.org"
    assert rows["u2"]["phone"] == "555"
    assert rows["u1"]["source"] == "sis"
    merged = report.records.filter(pl.col("action") == "merged").sort("sourcedId")
    assert merged.select("sourcedId", "source", "detail").rows() == [
        ("u1", "ad", "merged with source sis"),
        ("u2", "ad", "merged with source sis"),
    ]


def test_prefix_keeps_sources_apart(tmp_path: Path) -> None:
    config = load(tmp_path, [{"advanced": {"sis_prefix": "ps-"}}, AD])
    out, _ = run_pipeline(sources(), config)
    assert ids(out["users"]) == {"ps-u1", "ps-u2", "u1", "u2", "a9"}


def test_unknown_source_data_is_refused(tmp_path: Path) -> None:
    config = load(tmp_path)
    with pytest.raises(ConfigurationError, match="ad"):
        run_pipeline(sources(), config)
