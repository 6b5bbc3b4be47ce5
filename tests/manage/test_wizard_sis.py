"""What the wizard asks the SIS, against the PowerSchool simulator over real HTTP: Test
Connection's diagnosis (a URL pasted with /ws/v1, a field that does not exist, bad credentials),
the schools for Schools Mapping, the field finder, the live sample of mapped records and the
live counts of each filter rule — the last checked against what a real sync publishes."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from rostersync import manage
from rostersync.config import validate_config
from rostersync.errors import ConfigurationError, ConfigValidationError
from rostersync.manage import sis, sis_preview, wizard
from rostersync.settings import Settings, load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RunningSimulator,
)
from rostersync.store import Store
from rostersync.sync import sync_config

FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.1}
EMAIL = {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}}


def activated(store: Store, settings: Settings, url: str) -> int:
    d = store.create_district("Ashford")
    values = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {"url": url, "client_id": DEFAULT_CLIENT_ID, "client_secret": "x" * 8},
        "connector": FAST,
        "advanced": {"compare_by_uniqueness": False},
    }
    values["delivery"]["client_secret"] = DEFAULT_CLIENT_SECRET
    wizard.save_step(store, settings, "admin:ann", d.id, "delivery", values)
    return d.id


def test_connection_diagnosis(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    ok = sis.check_connection(store, settings, d)
    assert ok.report.ok, ok.report
    assert ok.source == "sis"
    assert ok.report.school_count == sim.district.counts()["v1_schools"]

    pasted = sis.check_connection(store, settings, d, delivery={"url": sim.url + "/ws/v1/"})
    assert not pasted.report.ok
    assert "/ws/v1" in pasted.report.message
    assert pasted.report.details["suggested_url"] == sim.url
    assert pasted.report.hint == f"set the service URL to {sim.url}"

    wrong = sis.check_connection(store, settings, d, delivery={"client_secret": "not-it"})
    assert not wrong.report.ok
    assert "client ID or secret" in wrong.report.message

    mapping = {"student": {"email": "U_DEF_EXT_STUDENTS.school_mail"}}
    wizard.save_step(
        store, settings, "admin:ann", d, "attribute_mapping", {"attribute_mapping": mapping}
    )
    unknown = sis.check_connection(store, settings, d)
    assert not unknown.report.ok
    assert unknown.report.details["unknown_fields"] == ["U_DEF_EXT_STUDENTS.school_mail"]
    assert "U_DEF_EXT_STUDENTS.school_mail" in unknown.report.message

    # Saved anyway, the pasted URL is named again by whatever reads the SIS.
    pasted_url = {"delivery": {"url": sim.url + "/ws/v1"}}
    wizard.save_step(store, settings, "admin:ann", d, "delivery", pasted_url)
    with pytest.raises(ConfigurationError, match="includes PowerSchool's API path /ws/v1") as read:
        sis.sis_schools(store, settings, d)
    assert read.value.hint == f"set the service URL to {sim.url}"

    with pytest.raises(ConfigValidationError) as bad_url:
        sis.check_connection(store, settings, d, delivery={"url": "sis.example.org"})
    assert [p.path for p in bad_url.value.problems] == ["sources[0].delivery.url"]
    with pytest.raises(ConfigurationError, match="source: 'ldap' is not in the configuration"):
        sis.check_connection(store, settings, d, "ldap")


def test_connection_of_a_source_not_saved_yet(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = store.create_district("Bexley")
    typed: dict[str, Any] = {"url": sim.url, "client_id": DEFAULT_CLIENT_ID}
    draft = sis.check_connection(
        store,
        settings,
        d.id,
        "sis",
        app="powerschool",
        delivery={**typed, "client_secret": DEFAULT_CLIENT_SECRET},
    )
    assert draft.report.ok, draft.report
    with pytest.raises(ConfigurationError, match="needs the client secret"):
        sis.check_connection(store, settings, d.id, "sis", app="powerschool", delivery=typed)


def test_schools_and_auto_mapping(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    schools = sis.sis_schools(store, settings, d)
    assert len(schools) == sim.district.counts()["v1_schools"]
    assert all(s.included and s.target is None for s in schools)
    first = schools[0].school
    chosen = [{"source_id": first.source_id, "target": "Renamed High"}]
    wizard.save_step(
        store, settings, "admin:ann", d, "schools_mapping", {"schools_mapping": chosen}
    )
    again = {s.school.source_id: s for s in sis.sis_schools(store, settings, d)}
    assert again[first.source_id].included
    assert again[first.source_id].target == "Renamed High"
    assert [k for k, s in again.items() if s.included] == [first.source_id]


def test_field_finder(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    hits = sis.find_fields(store, settings, d, query="school_email", entity_type="student")
    assert [h.insert for h in hits] == ["U_DEF_EXT_STUDENTS.school_email"]
    assert hits[0].field.kind == "extension_table"
    assert hits[0].field.group == "u_students_extension"
    core = sis.find_fields(store, settings, d, query="studentcorefields immunization")
    assert [h.insert for h in core] == ["STUDENTCOREFIELDS.immunization_dpt"]
    assert core[0].field.group == "studentcorefields"
    teachers = sis.find_fields(store, settings, d, entity_type="teacher")
    assert teachers
    assert {h.field.table for h in teachers} == {"USERS"}
    assert sis.find_fields(store, settings, d, query="school_email", entity_type="teacher") == []
    # Every field the finder offers is one a mapping accepts and the connector can read.
    for hit in hits + core:
        mapping = {"student": {"email": hit.insert}}
        wizard.save_step(
            store, settings, "admin:ann", d, "attribute_mapping", {"attribute_mapping": mapping}
        )
        assert sis.check_connection(store, settings, d).report.ok


def test_sample_of_mapped_records(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    sample = sis_preview.sample_records(store, settings, d, mapping=EMAIL)
    assert len(sample.records) == sis_preview.SAMPLE_SIZE
    assert "email" in sample.columns
    emails = set(sim.district.tables["u_def_ext_students"]["school_email"].drop_nulls())
    assert {r["email"] for r in sample.records if r["email"]} <= emails
    assert any(r["email"] for r in sample.records)
    assert (
        sample.total == sample.extraction.roster["users"].filter(pl.col("role") == "student").height
    )

    # The same extraction serves the next preview; another custom field needs a new one.
    again = sis_preview.sample_records(store, settings, d, mapping=EMAIL, entity_type="teacher")
    assert again.extraction.extracted_at == sample.extraction.extracted_at
    legal = {"student": {"givenName": "STUDENTCOREFIELDS.pscore_legal_first_name"}}
    other = sis_preview.sample_records(store, settings, d, mapping=legal)
    assert other.extraction.extracted_at != sample.extraction.extracted_at
    firsts = set(sim.district.tables["studentcorefields"]["pscore_legal_first_name"])
    assert {r["givenName"] for r in other.records} <= firsts

    # The extraction holds pupils' records: private, and purged with the district.
    kept = sis_preview.district_extractions(settings.ensure_data_dir(), d)
    assert (kept / "sis" / "extraction.json").stat().st_mode & 0o077 == 0
    assert (kept / "sis").stat().st_mode & 0o077 == 0
    deleted = manage.delete_district(
        store, "admin:op", d, reports_dir=settings.ensure_data_dir() / "reports"
    )
    assert str(kept) in deleted.reports_removed
    assert not kept.exists()
    d = activated(store, settings, sim.url)

    with pytest.raises(ConfigurationError, match="'pupil' is not an entity type"):
        sis_preview.sample_records(store, settings, d, entity_type="pupil")
    with pytest.raises(ConfigValidationError) as bad:
        sis_preview.sample_records(store, settings, d, mapping={"student": {"emial": "x"}})
    assert [p.path for p in bad.value.problems] == ["sources[0].attribute_mapping.student.emial"]


def test_filter_counts_match_what_a_sync_publishes(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    rules = {
        "student": [
            {
                "name": "no A names",
                "exclude": {"attribute": "givenName", "op": "starts_with", "value": "A"},
            },
            {"template": "active_students_only"},
        ],
        "teacher": [{"template": "teachers_with_class"}],
    }
    counts, extraction = sis_preview.filter_counts(store, settings, d, rules=rules)
    by_type = {c.entity_type: c for c in counts}
    assert [c.entity_type for c in counts] == [
        "calendar",
        "course",
        "class",
        "student",
        "admin",
        "teacher",
        "contact",
    ]
    students = by_type["student"]
    assert [r.label for r in students.rules] == ["no A names", "active_students_only"]
    assert students.records > students.kept
    assert students.records - sum(r.dropped for r in students.rules) == students.kept
    assert students.rules[-1].kept == students.kept
    assert by_type["course"].rules == []
    assert by_type["course"].kept == by_type["course"].records

    # The preview keeps exactly the records a sync with these rules publishes.
    wizard.save_step(store, settings, "admin:ann", d, "filter_rules", {"filter_rules": rules})
    _, body = manage.get_config_version(store, d)
    outcome = sync_config(store, validate_config(body, "saved"), settings)
    assert outcome.status == "succeeded"
    assert outcome.summary["students"] == students.kept
    assert outcome.summary["teachers"] == by_type["teacher"].kept

    with pytest.raises(ConfigValidationError) as bad:
        sis_preview.filter_counts(store, settings, d, rules={"student": [{"template": "nope"}]})
    assert bad.value.problems[0].path.startswith("sources[0].filter_rules.student[0]")
    assert extraction.counts["users"] > 0
