"""The wizard pages' form readers: what an HTML form posts becomes the sections the YAML file
has, and those sections pass the configuration validator; a page field tampered with is a
problem naming the field, never an error page."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData

from rostersync.config import validate_config
from rostersync.errors import ConfigValidationError
from rostersync.web.console import wizard_forms as forms


def posted(*pairs: tuple[str, str]) -> FormData:
    return FormData(list(pairs))


def config_with(source_values: dict[str, Any], **district: Any) -> Any:
    source = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {
            "url": "https://sis.example.org",
            "client_id": "c",
            "client_secret": "store:s",
        },
        **source_values,
    }
    return validate_config({"district": "D", "sources": [source], **district}, "the form")


def test_delivery_reads_every_advanced_setting_and_option() -> None:
    form = posted(
        ("delivery.url", " https://sis.example.org "),
        ("delivery.client_id", "abc"),
        ("delivery.client_secret", ""),
        ("advanced.preview", "on"),
        ("advanced.sis_prefix", "ps-"),
        ("advanced.contact_name_rule.separator", ";"),
        ("connector.concurrency", "4"),
        ("connector.verify_tls", "on"),
        ("hold_threshold.delete_percent", "5"),
        ("hold_threshold.update_percent", ""),
    )
    values = forms.delivery_values(form, "powerschool")
    assert values["delivery"] == {
        "url": "https://sis.example.org",
        "client_id": "abc",
        "client_secret": "",
    }
    advanced = values["advanced"]
    assert advanced["preview"] is True
    assert advanced["contact_module"] is False  # an unticked box
    assert advanced["sis_prefix"] == "ps-"
    assert advanced["contact_name_rule"] == {"pattern": "{last}{sep}{first}", "separator": ";"}
    options = values["connector"]
    assert options["concurrency"] == 4
    assert options["verify_tls"] is True
    # The other options left empty keep their defaults; unticked boxes say False.
    assert "timeout_seconds" not in options
    assert all(v is False for k, v in options.items() if k not in ("concurrency", "verify_tls"))
    assert values["hold_threshold"] == {
        "delete_percent": 5,
        "update_percent": None,
        "create_percent": None,
    }
    config = config_with(
        {"advanced": advanced, "connector": options},
        hold_threshold=values["hold_threshold"],
    )
    assert config.hold_threshold.update_percent is None
    assert config.sources[0].advanced.preview
    names = {f["name"] for f in forms.connector_options("powerschool")}
    assert {"concurrency", "verify_tls", "student_filter"} <= names
    assert all(f["help"] for f in forms.ADVANCED)


def test_mapping_rows_with_transforms_kept_rules_and_removals() -> None:
    form = posted(
        ("map.student.0.attribute", "email"),
        ("map.student.0.field", "U_DEF_EXT_STUDENTS.school_email"),
        ("map.student.0.transforms", "trim | lower"),
        ("map.student.1.attribute", "username"),
        ("map.student.1.field", "email"),
        ("map.student.1.transforms", "regex_extract: ^([^@]+)"),
        ("map.student.2.attribute", "identifier"),
        ("map.student.2.json", '{"constant": "x"}'),
        ("map.student.3.attribute", "middleName"),
        ("map.student.3.field", "STUDENTS.middle_name"),
        ("map.student.3.remove", "on"),
        ("map.teacher.0.attribute", ""),
        ("map.teacher.0.field", "ignored: no attribute"),
    )
    mapping = forms.mapping_values(form)["attribute_mapping"]
    assert mapping == {
        "student": {
            "email": {"field": "U_DEF_EXT_STUDENTS.school_email", "transforms": ["trim", "lower"]},
            "username": {"field": "email", "transforms": [{"regex_extract": "^([^@]+)"}]},
            "identifier": {"constant": "x"},
        }
    }
    config_with({"attribute_mapping": mapping})
    assert forms.show_transforms(mapping["student"]["username"]) == "regex_extract: ^([^@]+)"
    tampered = posted(("map.student.0.attribute", "email"), ("map.student.0.json", "{nope"))
    with pytest.raises(ConfigValidationError) as bad:
        forms.mapping_values(tampered)
    assert bad.value.problems[0].path == "map.student.email"


def test_filter_rules_templates_custom_rules_and_removals() -> None:
    form = posted(
        ("rule.student.0.json", '{"template": "active_students_only"}'),
        ("rule.student.1.json", '{"template": "exclude_pre_registered"}'),
        ("rule.student.1.remove", "on"),
        ("add.student.template", "grade_range"),
        ("add.student.min_grade", "09"),
        ("add.student.max_grade", "12"),
        ("add.student.kind", "exclude"),
        ("add.student.attribute", "givenName"),
        ("add.student.op", "in"),
        ("add.student.value", "Test, Zz"),
        ("add.student.name", "no test names"),
        ("add.course.kind", "include"),
        ("add.course.attribute", "title"),
        ("add.course.op", "is_not_empty"),
    )
    rules = forms.filter_values(form)["filter_rules"]
    assert rules == {
        "student": [
            {"template": "active_students_only"},
            {"template": "grade_range", "min_grade": "09", "max_grade": "12"},
            {
                "exclude": {"attribute": "givenName", "op": "in", "value": ["Test", "Zz"]},
                "name": "no test names",
            },
        ],
        "course": [{"include": {"attribute": "title", "op": "is_not_empty"}}],
    }
    config_with({"filter_rules": rules})
    with pytest.raises(ConfigValidationError) as bad:
        forms.filter_values(posted(("rule.class.0.json", "[")))
    assert bad.value.problems[0].path == "rule.class.0"


def test_requirements_domains_masters_and_schedule() -> None:
    requirements = forms.requirements_values(
        posted(
            ("req.student.email", "report"), ("req.teacher.email", "skip"), ("req.course.title", "")
        )
    )["data_requirements"]
    assert requirements == {"student": {"email": "report"}, "teacher": {"email": "skip"}}
    domains = forms.uniqueness_values(
        posted(("dom.student.givenName", "on"), ("dom.student.birthDate", "on"))
    )["uniqueness_domains"]
    assert domains["student"] == ["givenName", "birthDate"]
    assert domains["teacher"] == []  # people left unticked: no domain, said explicitly
    assert "course" not in domains
    masters = forms.master_values(
        posted(
            ("mf.0.entity", "student"),
            ("mf.0.attribute", "email"),
            ("mf.0.order", "ldap, sis"),
            ("mf.1.entity", "student"),
            ("mf.1.attribute", ""),
            ("mf.1.order", "sis"),
        )
    )["master_fields"]
    assert masters == {"student": {"email": ["ldap", "sis"]}}
    schedule = forms.schedule_values(
        posted(
            ("sync_schedule.every", "weekly"),
            ("sync_schedule.days.mon", "on"),
            ("sync_schedule.days.thu", "on"),
            ("sync_schedule.at", "06:30"),
            ("sync_schedule.timezone", "America/Chicago"),
            ("sync_schedule.expires", "2027-06-30"),
            ("notifications.emails", "a@example.org\nb@example.org, c@example.org"),
            ("notifications.on_held", "on"),
        )
    )
    assert schedule["sync_schedule"]["days"] == ["mon", "thu"]
    assert schedule["notifications"]["emails"] == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert schedule["notifications"]["on_new_data"] is False
    config = config_with(
        {"data_requirements": requirements, "uniqueness_domains": domains}, **schedule
    )
    assert config.sync_schedule.every == "weekly"
    never = forms.schedule_values(posted(("sync_schedule.every", "")))
    assert never["sync_schedule"]["every"] is None


def test_schools_auto_or_chosen() -> None:
    assert forms.schools_values(posted(("mode", "auto")), ["1", "2"]) == {"schools_mapping": "auto"}
    chosen = forms.schools_values(
        posted(
            ("mode", "list"),
            ("school.1.include", "on"),
            ("school.1.target", "North High"),
            ("school.2.target", "not included"),
        ),
        ["1", "2"],
    )
    assert chosen == {"schools_mapping": [{"source_id": "1", "target": "North High"}]}
