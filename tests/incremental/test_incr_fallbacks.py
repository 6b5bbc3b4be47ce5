"""When change tracking cannot serve a sync, it is a full pull, and the stats say why."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import zipfile
from datetime import timedelta

import pytest
from incr_helpers import FULL, INCREMENTAL, PLAN, assert_same_roster, extract, serve

from rostersync.connectors.powerschool import ExtractPlan
from rostersync.connectors.powerschool.config import parse_options
from rostersync.connectors.powerschool.plugin import plugin_xml, plugin_zip
from rostersync.errors import ConfigValidationError
from rostersync.simulators.powerschool import generate_district


def _mode(extraction: object) -> dict[str, object]:
    return dict(extraction.stats["incremental"])  # type: ignore[attr-defined]


def test_without_the_plugins_powerquery_the_sync_is_a_full_pull_that_says_so() -> None:
    district = generate_district("tiny", seed=21)
    with serve(district, with_queries=False) as running:
        first = asyncio.run(extract(running.url))
        running.set_day(1)
        second = asyncio.run(extract(running.url, baseline=first.baseline))
        mode = _mode(second)
        assert mode["mode"] == "full"
        assert "change tracking unavailable" in str(mode["reason"])
        assert "org.rostersync.roster.enrollments" in str(mode["reason"])
        assert_same_roster(second.roster, asyncio.run(extract(running.url, options=FULL)).roster)


def test_an_unknown_subscription_gives_a_full_pull_and_keeps_no_baseline() -> None:
    district = generate_district("tiny", seed=22)
    with serve(district, dataversion_subscriptions={"another_app": ("students",)}) as running:
        first = asyncio.run(extract(running.url))
        mode = _mode(first)
        assert mode["mode"] == "full"
        assert "change tracking unavailable" in str(mode["reason"])
        assert "'rostersync' (dataversion_application)" in str(mode["reason"])
        assert first.baseline is None


def test_a_data_version_that_goes_back_gives_a_full_pull() -> None:
    district = generate_district("tiny", seed=23, day=3)
    with serve(district) as running:
        first = asyncio.run(extract(running.url))
        running.set_day(1)  # the SIS's change log restarts (restored from a backup)
        second = asyncio.run(extract(running.url, baseline=first.baseline))
        assert _mode(second)["mode"] == "full"
        assert "went back" in str(_mode(second)["reason"])
        assert_same_roster(second.roster, asyncio.run(extract(running.url, options=FULL)).roster)
        assert first.baseline is not None
        assert second.baseline is not None
        assert int(second.baseline.cursor) < int(first.baseline.cursor)


def test_full_pull_every_days_forces_a_full_pull() -> None:
    district = generate_district("tiny", seed=24)
    with serve(district) as running:
        first = asyncio.run(extract(running.url))
        assert first.baseline is not None
        old = dataclasses.replace(
            first.baseline, full_at=first.baseline.full_at - timedelta(days=7)
        )
        second = asyncio.run(extract(running.url, baseline=old))
        assert _mode(second)["mode"] == "full"
        assert "full_pull_every_days" in str(_mode(second)["reason"])
        every_ten = INCREMENTAL.model_copy(update={"full_pull_every_days": 10})
        third = asyncio.run(extract(running.url, baseline=old, options=every_ten))
        assert _mode(third)["mode"] == "incremental"


def test_a_baseline_of_another_scope_or_plan_is_not_folded_into() -> None:
    district = generate_district("tiny", seed=25)
    with serve(district) as running:
        first = asyncio.run(extract(running.url))
        school = str(district["schools"]["dcid"][0])
        scoped = asyncio.run(extract(running.url, baseline=first.baseline, schools=[school]))
        assert _mode(scoped)["mode"] == "full"
        assert "scope or the configured reads" in str(_mode(scoped)["reason"])
        other = ExtractPlan(sync_co_teachers=False, change_tracking=True)
        replanned = asyncio.run(extract(running.url, baseline=first.baseline, plan=other))
        assert _mode(replanned)["mode"] == "full"


def test_without_the_option_no_baseline_is_kept() -> None:
    district = generate_district("tiny", seed=26)
    with serve(district) as running:
        plain = asyncio.run(extract(running.url, options=FULL))
        assert plain.baseline is None
        assert "incremental" not in plain.stats


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"incremental": "sometimes"}, "sources.sis.connector.incremental"),
        ({"full_pull_every_days": 0}, "sources.sis.connector.full_pull_every_days"),
        ({"dataversion_application": "my app"}, "sources.sis.connector.dataversion_application"),
        ({"incremantal": True}, "sources.sis.connector.incremantal"),
    ],
)
def test_bad_incremental_options_are_refused_naming_the_setting(
    raw: dict[str, object], path: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        parse_options(raw, "sources.sis.connector")
    assert [p.path for p in caught.value.problems] == [path]


def test_the_plugin_carries_the_powerquery_and_grants_what_it_reads() -> None:
    with zipfile.ZipFile(io.BytesIO(plugin_zip(PLAN))) as archive:
        assert "queries_root/rostersync.named_queries.xml" in archive.namelist()
    xml = plugin_xml(PLAN)
    for column in ("DATEENROLLED", "DATELEFT", "SECTIONID", "STUDENTID"):
        assert f'table="CC" field="{column}"' in xml
    plain = ExtractPlan()
    with zipfile.ZipFile(io.BytesIO(plugin_zip(plain))) as archive:
        assert archive.namelist() == ["plugin.xml"]
    assert 'table="CC"' not in plugin_xml(plain)


def test_only_connectors_that_fold_into_a_baseline_are_given_one() -> None:
    from rostersync.connectors import get_connector_class
    from rostersync.sync.incremental import is_incremental

    assert is_incremental("powerschool")
    # The OneRoster REST source folds its dateLastModified delta into a baseline too.
    assert get_connector_class("oneroster_rest").capabilities.incremental
    assert is_incremental("oneroster_rest")
    # Whole snapshots every time: extracted as usual, never given a baseline.
    assert not get_connector_class("ldap").capabilities.incremental
    assert not is_incremental("ldap")
    assert not is_incremental("no_such_app")
