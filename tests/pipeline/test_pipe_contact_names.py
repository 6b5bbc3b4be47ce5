"""Contact name parsing of legacy single-string contact names."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pipeline_factories import load, roster, user

from rostersync.pipeline import contact_name_parsing


def contacts(*names: str) -> dict[str, pl.DataFrame]:
    return roster(
        users=[
            user(f"p{i}", "guardian", None, None, metadata={"legacyContactName": n})
            for i, n in enumerate(names)
        ]
        + [user("p_done", "parent", "Kept", "AsIs", metadata={"legacyContactName": "X, Y"})]
    )


def parsed(tmp_path: Path, rule: dict[str, str] | None, *names: str, **adv: object):
    advanced: dict[str, object] = dict(adv)
    if rule is not None:
        advanced["contact_name_rule"] = rule
    config = load(tmp_path, [{"advanced": advanced}]).sources[0]
    out, report = contact_name_parsing(contacts(*names), config)
    rows = out["users"].sort("sourcedId").select("givenName", "middleName", "familyName").rows()
    return rows, report


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith, John", ("John", None, "Smith")),
        ("Smith Jr, Mary Ann", ("Mary", "Ann", "Smith Jr")),
        ("Smith, John III", ("John", None, "Smith III")),
        ("  de la Cruz ,  José  María ", ("José", "María", "de la Cruz")),
    ],
)
def test_default_rule_last_comma_first(
    tmp_path: Path, raw: str, expected: tuple[str | None, ...]
) -> None:
    rows, report = parsed(tmp_path, None, raw)
    assert rows[0] == expected
    assert rows[1] == ("Kept", None, "AsIs")  # names already present are not touched
    assert report.records.height == 0


def test_space_separator_first_last(tmp_path: Path) -> None:
    rule = {"pattern": "{first}{sep}{last}", "separator": " "}
    rows, _ = parsed(tmp_path, rule, "Mary Ann Smith", "John Smith Sr.")
    assert rows[:2] == [("Mary", "Ann", "Smith"), ("John", None, "Smith Sr")]


def test_semicolon_with_middle_slot(tmp_path: Path) -> None:
    rule = {"pattern": "{first}{sep}{middle}{sep}{last}", "separator": ";"}
    rows, _ = parsed(tmp_path, rule, "Ana;Maria;Lopez")
    assert rows[0] == ("Ana", "Maria", "Lopez")


def test_unsplittable_name_is_kept_whole_and_reported(tmp_path: Path) -> None:
    rows, report = parsed(tmp_path, None, "Cher")
    assert rows[0] == (None, None, "Cher")
    recs = report.records
    assert recs.select("sourcedId", "action", "detail").rows() == [("p0", "reported", "Cher")]


def test_contact_module_on_leaves_names_alone(tmp_path: Path) -> None:
    rows, _ = parsed(tmp_path, None, "Smith, John", contact_module=True)
    assert rows[0] == (None, None, None)
