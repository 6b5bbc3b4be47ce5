"""Filter rules for the seven entity types: ready-made templates and custom include/exclude rules.

A record is kept when it satisfies every include rule and no exclude rule of its type; the
report names the first rule (in the configured order) that dropped it. Types are filtered in
dependency order — calendar, course, class, student, admin, teacher, contact — so that
``teachers_with_class`` sees the classes that survived and ``contacts_of_synced_students`` the
students that did. With the contact module on, ``advanced.contact_filter`` is one more include
rule for contacts; with ``sync_co_teachers`` off, co-teacher enrollments are filtered here.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from rostersync.config import GRADE_ORDER, FilterRule, SourceConfig, fields
from rostersync.model import ENROLL_STATUS_KEY, Roster
from rostersync.pipeline._exprs import (
    compile_condition,
    condition_attributes,
    isin,
    metadata_value,
    rows_of_type,
    with_demographics,
)
from rostersync.pipeline._report import StageReport, entries

STAGE = "filter_rules"
TYPE_ORDER: Final = ("calendar", "course", "class", "student", "admin", "teacher", "contact")
DEFAULT_TEST_PATTERN: Final = "(?i)^(test|zz)"
#: Where the SIS enrollment status may be found in a student's metadata.
ENROLL_STATUS_KEYS: Final = (
    ENROLL_STATUS_KEY,
    "school_enrollment.enroll_status",
    "STUDENTS.Enroll_Status",
)


_ENROLL = "__enroll_status"
_ENROLL_TEMPLATES = frozenset({"active_students_only", "exclude_pre_registered"})


def with_enroll_status(view: pl.DataFrame) -> pl.DataFrame:
    """``view`` with the SIS enrollment status as a column, parsed once from the metadata.

    Only keys that occur in the column at all are parsed (a literal search is far cheaper than
    reading JSON).
    """
    meta = view.get_column("metadata")
    present = [k for k in ENROLL_STATUS_KEYS if meta.str.contains(f'"{k}"', literal=True).any()]
    status = (
        pl.coalesce([metadata_value(k) for k in present]).str.to_uppercase()
        if present
        else pl.lit(None, dtype=pl.Utf8)
    )
    return view.with_columns(status.alias(_ENROLL))


def _enroll_status() -> pl.Expr:
    return pl.col(_ENROLL)


class _Alive:
    """The records not filtered so far: templates of later types depend on earlier types."""

    def __init__(self, tables: Roster) -> None:
        self.tables = tables
        self.dropped: dict[str, list[pl.Series]] = {}

    def drop(self, entity: str, ids: pl.Series) -> None:
        if ids.len():
            self.dropped.setdefault(entity, []).append(ids)

    def gone(self, entity: str) -> pl.Series | None:
        found = self.dropped.get(entity)
        return pl.concat(found) if found else None

    def get(self, entity: str, columns: list[str]) -> pl.DataFrame:
        frame = self.tables[entity].select(columns)
        gone = self.gone(entity)
        return frame if gone is None else frame.filter(~isin(pl.col("sourcedId"), gone))


def _template(rule: FilterRule, etype: str, alive: _Alive) -> pl.Expr:
    """True for records the template drops."""
    name = rule.template
    if name == "active_students_only":
        status = _enroll_status()
        active = (
            (pl.col("status") == "active")
            & pl.col("enabledUser").fill_null(True)
            & (status.is_null() | status.is_in(["A", "0"]))
        )
        return ~active.fill_null(False)
    if name == "exclude_pre_registered":
        return _enroll_status().is_in(["P", "-1"]).fill_null(False)
    if name == "current_school_year_only":
        return _outside_year(rule, etype, alive)
    if name == "teachers_with_class":
        enr = alive.tables["enrollments"]
        classes = alive.get("classes", ["sourcedId"])["sourcedId"]
        teaching = enr.filter(
            (pl.col("role") == "teacher") & isin(pl.col("classSourcedId"), classes)
        )["userSourcedId"]
        return ~isin(pl.col("sourcedId"), teaching)
    if name == "contacts_of_synced_students":
        users = alive.get("users", ["sourcedId", "role", "agentSourcedIds"])
        students = users.filter(pl.col("role") == "student")
        linked = pl.concat(
            [
                alive.tables["userContacts"].filter(
                    isin(pl.col("studentSourcedId"), students["sourcedId"])
                )["contactSourcedId"],
                students["agentSourcedIds"].explode(keep_nulls=False, empty_as_null=False),
            ]
        )
        return ~isin(pl.col("sourcedId"), linked)
    if name == "exclude_test_records":
        pattern = rule.pattern or DEFAULT_TEST_PATTERN
        attrs = rule.attributes or (
            ["givenName", "familyName"] if fields.entity_of(etype) == "users" else ["title"]
        )
        return pl.any_horizontal(
            [pl.col(a).cast(pl.Utf8).str.contains(pattern) for a in attrs]
        ).fill_null(False)
    if name == "grade_range":
        lo = GRADE_ORDER.index(rule.min_grade) if rule.min_grade else 0
        hi = GRADE_ORDER.index(rule.max_grade) if rule.max_grade else len(GRADE_ORDER)
        rank = pl.element().replace_strict(
            list(GRADE_ORDER), list(range(len(GRADE_ORDER))), default=None, return_dtype=pl.Int32
        )
        inside = pl.col("grades").list.eval((rank >= lo) & (rank <= hi)).list.any()
        return ~inside.fill_null(False)
    raise ValueError(f"unknown template {name}")  # validated before; unreachable


def _outside_year(rule: FilterRule, etype: str, alive: _Alive) -> pl.Expr:
    year = rule.school_year or alive.tables["academicSessions"]["schoolYear"].max()
    sessions = alive.get("academicSessions", ["sourcedId", "schoolYear"])
    if year is None:
        return pl.lit(False)
    if etype == "calendar":
        return (pl.col("schoolYear") != str(year)).fill_null(True)
    ids = sessions.filter(pl.col("schoolYear") == str(year))["sourcedId"]
    if etype == "course":
        return (~isin(pl.col("schoolYearSourcedId"), ids)).fill_null(False)
    return ~pl.col("termSourcedIds").list.eval(
        pl.element().is_in(ids.implode())
    ).list.any().fill_null(False)


_ALWAYS: Final = frozenset({"sourcedId", "source", "role"})
#: Columns each template reads besides the ones above.
_TEMPLATE_COLUMNS: Final[dict[str, set[str]]] = {
    "active_students_only": {"status", "enabledUser"},
    "current_school_year_only": {"schoolYear", "schoolYearSourcedId", "termSourcedIds"},
    "exclude_test_records": {"givenName", "familyName", "title"},
    "grade_range": {"grades"},
}


def _rules_for(etype: str, config: SourceConfig) -> list[tuple[str, FilterRule]]:
    configured: list[FilterRule] = config.filter_rules.get(etype) or []  # type: ignore[call-overload]
    rules = [(r.label(i), r) for i, r in enumerate(configured)]
    adv = config.advanced
    if etype == "contact" and adv.contact_module and adv.contact_filter is not None:
        rules.append(("advanced.contact_filter", FilterRule(include=adv.contact_filter)))
    return rules


def filter_rules(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Apply every filter rule; report each dropped record with the rule that dropped it."""
    alive = _Alive(tables)
    parts: list[pl.DataFrame] = []
    for etype in TYPE_ORDER:
        rules = _rules_for(etype, config)
        if not rules:
            continue
        entity = fields.entity_of(etype)
        wanted: set[str] = set()
        for _, r in rules:
            wanted |= condition_attributes(r.include) | condition_attributes(r.exclude)
            wanted |= _TEMPLATE_COLUMNS.get(r.template or "", set()) | set(r.attributes or [])
        base = tables[entity]
        # only the columns the rules read (and the report needs) are copied
        narrow = [c for c in base.columns if c in wanted or c in _ALWAYS or c == "metadata"]
        view = rows_of_type(base.select(narrow), etype)
        if entity == "users":
            view = with_demographics(view, tables["demographics"], wanted)
        if any(r.template in _ENROLL_TEMPLATES for _, r in rules):
            view = with_enroll_status(view)
        dropped_by = []
        for label, rule in rules:
            if rule.template is not None:
                drops = _template(rule, etype, alive)
            elif rule.include is not None:
                drops = ~compile_condition(rule.include, etype, view.schema)
            else:
                assert rule.exclude is not None
                drops = compile_condition(rule.exclude, etype, view.schema)
            dropped_by.append(pl.when(drops).then(pl.lit(label)))
        flagged = view.with_columns(pl.coalesce(dropped_by).alias("__reason")).filter(
            pl.col("__reason").is_not_null()
        )
        parts.append(
            entries(
                flagged, stage=STAGE, entity=entity, action="filtered", reason=pl.col("__reason")
            )
        )
        alive.drop(entity, flagged["sourcedId"])
    out = dict(tables)
    for entity in alive.dropped:
        gone = alive.gone(entity)
        assert gone is not None
        out[entity] = tables[entity].filter(~isin(pl.col("sourcedId"), gone))
    if not config.advanced.sync_co_teachers:
        enr = out["enrollments"]
        co = (pl.col("role") == "teacher") & (pl.col("primary") == False)  # noqa: E712
        co = co.fill_null(False)
        parts.append(
            entries(
                enr.filter(co),
                stage=STAGE,
                entity="enrollments",
                action="filtered",
                reason="sync_co_teachers is off",
            )
        )
        out["enrollments"] = enr.filter(~co)
    return out, StageReport.build(STAGE, config.name, tables, out, parts)
