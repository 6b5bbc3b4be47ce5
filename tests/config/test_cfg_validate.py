"""Validation of district configuration files: every problem at once, each with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rostersync.config import (
    ConfigDeprecationWarning,
    DistrictConfig,
    dump_config,
    load_config,
    parse_config_text,
    validate_config,
)
from rostersync.errors import ConfigurationError, ConfigValidationError

GOOD = """
district: Springfield
sources:
  - name: sis
    app: powerschool
    delivery: {url: "http://127.0.0.1:8765/", client_id: demo, client_secret: env:PS_SECRET}
"""


def problems_of(text: str) -> dict[str, str]:
    with pytest.raises(ConfigValidationError) as info:
        parse_config_text(text, "district.yaml")
    assert info.value.source == "district.yaml"
    return {p.path: p.message for p in info.value.problems}


def with_source(extra: str) -> str:
    indented = "\n".join("    " + line for line in extra.strip("\n").splitlines())
    return GOOD + indented + "\n"


def test_minimal_config_gets_every_default(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(GOOD, encoding="utf-8")
    config = load_config(path)
    src = config.sources[0]
    assert src.delivery.url == "http://127.0.0.1:8765"
    assert src.sync_mode == "import"
    assert src.schools_mapping == "auto"
    assert src.advanced.contact_module is False
    assert src.advanced.hold_threshold.delete_percent == 10
    assert src.advanced.hold_threshold.update_percent == 75
    assert src.effective_domains()["student"] == ["givenName", "familyName", "email"]
    assert "course" not in src.effective_domains()


def test_dump_round_trips() -> None:
    config = parse_config_text(
        with_source(
            """
attribute_mapping:
  student:
    username: {field: email, transforms: [lower, {regex_extract: "^([^@]+)"}]}
filter_rules:
  student: [{exclude: {not: {attribute: grades, op: in, value: ["09", "10"]}}}]
"""
        ),
        "a",
    )
    again = parse_config_text(dump_config(config), "b")
    assert again == config
    assert isinstance(again, DistrictConfig)


def test_bad_config_reports_every_problem_with_its_path() -> None:
    text = with_source(
        """
sync_mode: both
delivery: {url: "ftp://x", client_id: demo, client_secret: hunter2}
attribute_mapping:
  student:
    emial: email
    username: {field: nosuch}
    givenName: {field: givenName, transforms: [{regex_extract: "(("}]}
data_requirements:
  student: {birthdate: skip, email: sometimes}
filter_rules:
  student:
    - template: active_students_only
    - template: no_such_template
    - exclude: {attribute: favouriteColour, op: equals, value: red}
    - include: {attribute: birthDate, op: greater_than, value: not-a-date}
    - exclude: {all: [{attribute: familyName, op: matches, value: "[a-"}]}
    - include: {attribute: email, op: between, value: [1]}
    - include: {attribute: enabledUser, op: greater_than, value: true}
    - {template: grade_range, min_grade: "13th"}
  teacher:
    - template: grade_range
uniqueness_domains:
  student: [givenName, shoeSize]
"""
    )
    text += "master_fields:\n  users: {email: [sis, ad]}\n  nonsense: {x: [sis]}\n"
    good_delivery = GOOD.splitlines()[-1] + "\n"
    text = text.replace(good_delivery, "", 1)  # the bad `delivery` replaces it: no key twice
    problems = problems_of(text)
    p = "sources[0]"
    expected = {
        f"{p}.sync_mode",
        f"{p}.delivery.url",
        f"{p}.delivery.client_secret",
        f"{p}.attribute_mapping.student.emial",
        f"{p}.attribute_mapping.student.username.field",
        f"{p}.attribute_mapping.student.givenName.transforms[0]",
        f"{p}.data_requirements.student.birthdate",
        f"{p}.data_requirements.student.email",
        f"{p}.filter_rules.student[1].template",
        f"{p}.filter_rules.student[2].exclude.attribute",
        f"{p}.filter_rules.student[3].include.value",
        f"{p}.filter_rules.student[4].exclude.all[0].value",
        f"{p}.filter_rules.student[5].include.value",
        f"{p}.filter_rules.student[6].include.value",
        f"{p}.filter_rules.student[7].min_grade",
        f"{p}.filter_rules.teacher[0].template",
        f"{p}.filter_rules.teacher[0]",  # grade_range without min_grade/max_grade
        f"{p}.uniqueness_domains.student[1]",
        "master_fields.users.email[1]",
        "master_fields.nonsense",
    }
    assert set(problems) == expected, set(problems) ^ expected
    assert "plain-text secrets are refused" in problems[f"{p}.delivery.client_secret"]
    assert "did you mean 'email'" in problems[f"{p}.attribute_mapping.student.emial"]
    assert (
        "unknown template 'no_such_template'" in problems[f"{p}.filter_rules.student[1].template"]
    )
    assert "regular expression" in problems[f"{p}.filter_rules.student[4].exclude.all[0].value"]
    assert (
        "regular expression" in problems[f"{p}.attribute_mapping.student.givenName.transforms[0]"]
    )
    assert "not a date" in problems[f"{p}.filter_rules.student[3].include.value"]
    assert "applies to student" in problems[f"{p}.filter_rules.teacher[0].template"]
    assert "unknown source 'ad'" in problems["master_fields.users.email[1]"]


def test_circular_master_field_priority() -> None:
    text = GOOD + (
        "  - name: ad\n    app: ldap\n"
        "    delivery: {url: 'http://ad', client_id: x, client_secret: 'file:/run/ad'}\n"
        "master_fields:\n  student: {email: [ad, sis, ad]}\n  users: {email: [sis, ad]}\n"
    )
    problems = problems_of(text)
    assert "circular priority" in problems["master_fields.student.email[2]"]
    assert "ad > sis > ad" in problems["master_fields.student.email[2]"]
    assert "conflicts" in problems["master_fields.users.email"]


def test_unknown_settings_and_missing_required() -> None:
    text = "district: x\nsources:\n  - name: sis\n    app: powerschool\n    colour: blue\n"
    text += "unknown_top: 1\n"
    problems = problems_of(text)
    assert problems["sources[0].delivery"] == "required setting is missing"
    assert problems["sources[0].colour"].startswith("unknown setting")
    assert problems["unknown_top"].startswith("unknown setting")


def test_yaml_syntax_error_names_line_and_column() -> None:
    problems = problems_of("district: x\nsources: [\n  - a: b\n")
    (where, message), *_ = problems.items()
    assert where.startswith("line 3, column")
    assert message.startswith("YAML syntax")


def test_empty_file_and_non_mapping() -> None:
    assert problems_of("") == {"": "the file holds no configuration (it is empty or null)"}
    with pytest.raises(ConfigValidationError):
        validate_config(["a"], "x")


def test_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(tmp_path / "missing.yaml")
    assert info.value.setting == str(tmp_path / "missing.yaml")


def test_contact_name_rule_and_filter_are_checked() -> None:
    problems = problems_of(
        with_source(
            """
advanced:
  contact_module: true
  contact_filter: {attribute: relationship, op: equals, value: Mother}
  contact_name_rule: {pattern: "{last} {first}", separator: ","}
"""
        )
    )
    assert "sources[0].advanced.contact_filter.attribute" in problems
    assert "sources[0].advanced.contact_name_rule.pattern" in problems


def test_schedule_and_duplicate_source_names() -> None:
    text = GOOD + (
        "  - name: sis\n    app: powerschool\n"
        "    delivery: {url: 'http://b', client_id: x, client_secret: 'store:ps'}\n"
        "sync_schedule: {frequency: hourly, time: '25:00', timezone: Mars/Base}\n"
    )
    with pytest.warns(ConfigDeprecationWarning):
        problems = problems_of(text)
    assert "twice" in problems["sources[1].name"]
    for key in ("frequency", "time", "timezone"):
        assert f"sync_schedule.{key}" in problems


def test_every_template_applies_to_its_types() -> None:
    from rostersync.config import TEMPLATES

    for name, template in TEMPLATES.items():
        rules = {}
        for etype in template.types:
            rule: dict[str, object] = {"template": name}
            if name == "grade_range":
                rule["min_grade"] = "KG"
            rules[etype] = [rule]
        data = yaml.safe_load(GOOD)
        data["sources"][0]["filter_rules"] = rules
        validate_config(data, name)
