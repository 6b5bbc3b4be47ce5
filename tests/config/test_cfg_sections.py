"""The sections other packages act on (hold_threshold, sync_schedule, notifications).

Each is declared in ``rostersync.config`` (the packages acting on it import it from there),
reported with its full path among every other problem of the file, and kept typed: the callers
read ``config.sync_schedule`` etc. without re-validating.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from rostersync.config import (
    ConfigDeprecationWarning,
    DistrictConfig,
    HoldThreshold,
    NotificationsConfig,
    SyncSchedule,
    config_document,
    dump_config,
    parse_config_text,
    validate_config,
)
from rostersync.errors import ConfigValidationError

BASE = """
district: Springfield
sources:
  - name: sis
    app: powerschool
    delivery: {url: "http://127.0.0.1:8765", client_id: demo, client_secret: env:PS_SECRET}
"""


def config_with(**sections: Any) -> dict[str, Any]:
    """The base configuration with top-level sections and ``advanced`` of the source set."""
    data: dict[str, Any] = yaml.safe_load(BASE)
    advanced = sections.pop("advanced", None)
    if advanced is not None:
        data["sources"][0]["advanced"] = advanced
    data.update(sections)
    return data


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigValidationError) as info:
        validate_config(data, "district.yaml")
    return {p.path: p.message for p in info.value.problems}


def test_sections_are_declared_once_in_config() -> None:
    import rostersync.notify
    import rostersync.schedule
    from rostersync.changes import threshold

    fields = DistrictConfig.model_fields
    assert fields["hold_threshold"].annotation is HoldThreshold
    assert fields["sync_schedule"].annotation is SyncSchedule
    assert fields["notifications"].annotation is NotificationsConfig
    assert threshold.HoldThreshold is HoldThreshold
    assert rostersync.schedule.SyncSchedule is SyncSchedule
    assert rostersync.notify.NotificationsConfig is NotificationsConfig
    for model in (HoldThreshold, SyncSchedule, NotificationsConfig):
        assert model.__module__.startswith("rostersync.config.")


def test_defaults() -> None:
    config = validate_config(config_with(), "d")
    threshold = config.hold_threshold
    assert config.sources[0].advanced.hold_threshold == threshold
    assert isinstance(threshold, HoldThreshold)
    assert (threshold.delete_percent, threshold.update_percent) == (10, 75)
    assert isinstance(config.sync_schedule, SyncSchedule)
    assert not config.sync_schedule.is_active
    assert isinstance(config.notifications, NotificationsConfig)
    assert config.notifications.all_webhooks() == []


def test_full_sections_are_typed() -> None:
    config = validate_config(
        config_with(
            hold_threshold={
                "delete_count": 500,
                "entities": {"student": {"delete_percent": 3}, "classes": {"update_count": 9}},
                "per_school": True,
                "allow_over_threshold_until": "2026-08-31",
                "rollover_windows": [
                    {"kind": "no_deletions", "start": "2026-06-10", "end": "2026-08-20"}
                ],
            },
            sync_schedule={
                "every": "weekly",
                "days": ["mon", "thursday"],
                "at": "5:30",
                "timezone": "America/New_York",
                "expires": "2027-06-30",
                "first_day_of_school": True,
            },
            notifications={
                "emails": ["it@springfield.example.org"],
                "webhook_url": "https://hooks.example.org/a",
                "on_held": False,
                "webhooks": [{"url": "http://127.0.0.1:9/b", "events": ["failed"]}],
            },
        ),
        "d",
    )
    threshold = config.sources[0].advanced.hold_threshold
    assert threshold.limits_for("student").delete_percent == 3
    assert threshold.limits_for("student").delete_count == 500
    assert threshold.limits_for("classes").update_count == 9
    assert threshold.override_active(date(2026, 8, 31))
    assert threshold.rollover_windows[0].active(date(2026, 7, 1))
    schedule = config.sync_schedule
    assert schedule.days == ("mon", "thu")
    assert schedule.at == "05:30"
    assert schedule.weekdays == frozenset({0, 3})
    hooks = config.notifications.all_webhooks()
    assert [h.url for h in hooks] == ["https://hooks.example.org/a", "http://127.0.0.1:9/b"]
    assert hooks[0].events == ["published", "failed"]


def test_every_problem_of_every_section_at_once_with_full_paths() -> None:
    data = config_with(
        advanced={
            "hold_threshold": {
                "delete_percent": -1,
                "colour": "red",
                "entities": {"users": {"delete_percent": "lots"}, "pupils": {"delete_count": 1}},
                "rollover_windows": [
                    {"kind": "summer", "start": "2026-08-01", "end": "2026-09-01"},
                    {"kind": "no_deletions", "start": "2026-08-01", "end": "2026-07-01"},
                ],
            }
        },
        sync_schedule={"every": "hourly", "at": "25:00", "timezone": "Mars/Olympus_Mons"},
        notifications={
            "emails": ["nobody"],
            "webhook_url": "ftp://hooks.example.org",
            "webhooks": [{"url": "http://x", "secret": "hunter2", "events": ["boom"]}],
        },
    )
    data["sources"][0]["filter_rules"] = {"student": [{"template": "no_such_template"}]}
    problems = problems_of(data)
    th = "sources[0].advanced.hold_threshold"
    expected = {
        f"{th}.delete_percent",
        f"{th}.colour",
        f"{th}.entities.users.delete_percent",
        f"{th}.entities.pupils",
        f"{th}.rollover_windows[0].kind",
        f"{th}.rollover_windows[1]",
        "sync_schedule.every",
        "sync_schedule.at",
        "sync_schedule.timezone",
        "notifications.emails",
        "notifications.webhook_url",
        "notifications.webhooks[0].secret",
        "notifications.webhooks[0].events[0]",
        "sources[0].filter_rules.student[0].template",
    }
    assert set(problems) == expected, set(problems) ^ expected
    assert "unknown entity pupils" in problems[f"{th}.entities.pupils"]
    assert "before start" in problems[f"{th}.rollover_windows[1]"]
    assert "IANA time zone" in problems["sync_schedule.timezone"]
    assert "not an http:// or https:// URL" in problems["notifications.webhook_url"]
    assert "secret reference" in problems["notifications.webhooks[0].secret"]


def test_schedule_consistency_is_reported_on_the_section() -> None:
    problems = problems_of(config_with(sync_schedule={"every": "weekly"}))
    assert problems == {"sync_schedule": "a weekly schedule needs `days`, e.g. days: [mon, thu]"}
    problems = problems_of(
        config_with(sync_schedule={"every": "daily", "starts": "2026-09-01", "expires": "2026-01"})
    )
    assert list(problems) == ["sync_schedule.expires"]


def test_earlier_schedule_spellings_are_accepted_and_named_as_written() -> None:
    old = {
        "frequency": "weekly",
        "time": "07:15",
        "weekdays": ["mon"],
        "until": "2027-06-30",
        "first_day_sync": True,
    }
    with pytest.warns(ConfigDeprecationWarning) as caught:
        schedule = validate_config(config_with(sync_schedule=old), "d").sync_schedule
    assert sorted(str(w.message) for w in caught) == sorted(
        f"`sync_schedule.{key}` is deprecated: write `sync_schedule.{new}` instead"
        for key, new in zip(
            old, ("every", "at", "days", "expires", "first_day_of_school"), strict=True
        )
    )
    with pytest.warns(ConfigDeprecationWarning):
        shown = dump_config(validate_config(config_with(sync_schedule=old), "d"))
    assert "frequency" not in shown
    assert (schedule.every, schedule.at, schedule.days) == ("weekly", "07:15", ("mon",))
    assert schedule.expires == date(2027, 6, 30)
    assert schedule.first_day_of_school
    manual = validate_config(config_with(sync_schedule={"every": "manual"}), "d")
    assert manual.sync_schedule.every is None
    with pytest.warns(ConfigDeprecationWarning):
        problems = problems_of(config_with(sync_schedule={"frequency": "hourly", "time": "7pm"}))
    assert set(problems) == {"sync_schedule.frequency", "sync_schedule.time"}
    with pytest.warns(ConfigDeprecationWarning):
        problems = problems_of(config_with(sync_schedule={"time": "07:00", "at": "08:00"}))
    assert problems["sync_schedule"] == "`time` repeats `at`: give only one of them"


def test_stored_and_shown_configurations_read_back_the_same() -> None:
    """A limit set to null ("no limit") and a partial override survive every dump."""
    config = validate_config(
        config_with(
            hold_threshold={
                "delete_percent": None,
                "entities": {"teacher": {"update_percent": None, "delete_count": 2}},
            },
            sync_schedule={"every": "daily", "at": "01:00", "timezone": "Europe/Paris"},
            notifications={"webhooks": [{"url": "https://h.example.org", "secret": "env:HOOK"}]},
        ),
        "d",
    )
    stored = config_document(config)  # what a sync run saves
    assert "hold_threshold" not in stored["sources"][0].get("advanced", {})
    for again in (validate_config(stored, "stored"), parse_config_text(dump_config(config), "s")):
        assert again == config
        threshold = again.hold_threshold
        assert threshold.delete_percent is None
        teacher = threshold.limits_for("teacher")
        assert (teacher.update_percent, teacher.delete_percent, teacher.delete_count) == (
            None,
            None,
            2,
        )
        assert threshold.limits_for("users").update_percent == 75
    shown = yaml.safe_load(dump_config(config))
    assert shown["hold_threshold"]["update_percent"] == 75
    assert shown["sync_schedule"]["every"] == "daily"


def test_an_unquoted_time_read_as_a_number_is_explained() -> None:
    text = BASE + "sync_schedule: {every: daily, at: 12:30}\n"  # YAML 1.1: 12:30 is 750
    with pytest.raises(ConfigValidationError) as info:
        parse_config_text(text, "d")
    (problem,) = info.value.problems
    assert problem.path == "sync_schedule.at"
    assert 'in quotes, e.g. "12:30"' in problem.message


SECOND_SOURCE = {
    "name": "sis2",
    "app": "powerschool",
    "delivery": {"url": "http://127.0.0.1:8766", "client_id": "demo", "client_secret": "env:X"},
}


def test_hold_threshold_is_a_district_setting() -> None:
    config = validate_config(config_with(hold_threshold={"delete_count": 7}), "d")
    assert config.hold_threshold.delete_count == 7
    # the change flow still reading a source's place gets the district's value
    assert config.sources[0].advanced.hold_threshold.delete_count == 7
    shown = yaml.safe_load(dump_config(config))
    assert shown["hold_threshold"]["delete_count"] == 7
    assert "hold_threshold" not in shown["sources"][0]["advanced"]


def test_a_source_hold_threshold_is_read_as_the_district_one_with_a_warning() -> None:
    data = config_with(advanced={"hold_threshold": {"delete_count": 7}})
    data["sources"].append({**SECOND_SOURCE})
    with pytest.warns(ConfigDeprecationWarning, match=r"sources\[0\]\.advanced\.hold_threshold"):
        config = validate_config(data, "d")
    assert config.hold_threshold.delete_count == 7
    assert [s.advanced.hold_threshold.delete_count for s in config.sources] == [7, 7]
    again = validate_config(config_document(config), "stored")  # no warning: written anew
    assert again == config


@pytest.mark.parametrize("at_top", [False, True])
def test_sources_that_disagree_on_the_hold_threshold_are_refused(at_top: bool) -> None:
    data = config_with(advanced={"hold_threshold": {"delete_count": 7}})
    data["sources"].append({**SECOND_SOURCE, "advanced": {"hold_threshold": {"delete_count": 9}}})
    if at_top:
        data["hold_threshold"] = {"delete_count": 7}
    with pytest.warns(ConfigDeprecationWarning):
        problems = problems_of(data)
    (message,) = problems.values()
    assert "sources[1].advanced.hold_threshold differs from" in message
    assert "one per district" in message


def test_config_validate_prints_deprecations_as_warnings(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from rostersync.cli import main

    path = tmp_path / "d.yaml"
    data = config_with(
        advanced={"hold_threshold": {"delete_count": 7}}, sync_schedule={"time": "03:00"}
    )
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    import sys

    old, sys.argv = sys.argv, ["rostersync", "config", "validate", str(path)]
    try:
        main()
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    assert "valid" in out
    assert f"{path}: warning: `sources[0].advanced.hold_threshold` is deprecated" in err
    assert f"{path}: warning: `sync_schedule.time` is deprecated" in err
