"""SIS prefix: every ID and every reference, lists included, consistently."""

from __future__ import annotations

from pathlib import Path

from pipeline_factories import demo_district, load

from rostersync.pipeline import sis_prefix
from rostersync.pipeline.prefix import id_columns


def test_prefix_everywhere(tmp_path: Path) -> None:
    config = load(tmp_path, [{"advanced": {"sis_prefix": "ps-"}}]).sources[0]
    before = demo_district()
    out, report = sis_prefix(before, config)
    for name, table in out.items():
        for col in id_columns(table.schema):
            values = table[col].explode() if col.endswith("Ids") else table[col]
            old = before[name][col].explode() if col.endswith("Ids") else before[name][col]
            assert values.null_count() == old.null_count(), (name, col)
            assert all(v.startswith("ps-") for v in values.drop_nulls()), (name, col)
    assert out["users"].filter(out["users"]["sourcedId"] == "ps-u1")[
        "agentSourcedIds"
    ].to_list() == [["ps-p1"]]
    assert out["enrollments"]["userSourcedId"].to_list()[0] == "ps-u1"
    assert out["users"]["sourceId"].to_list()[0] == "u1"  # the raw ID stays raw
    assert report.records.height == 0


def test_no_prefix_is_identity(tmp_path: Path) -> None:
    before = demo_district()
    out, _ = sis_prefix(before, load(tmp_path).sources[0])
    assert out is before
