"""Validity: the last stage, so every published record is valid against the OneRoster data model.

Strict consumers (typed 1.1 and 1.2 clients, strict CSV validators) refuse a record with a blank
required field, a sourcedId outside the GUID character set or a value outside a vocabulary. The
earlier stages keep what the sources give; this stage fills what is still missing with documented
fallbacks and lists every record it touched in the run report (action ``reported``, one reason per
fallback), so the admin can fix the source:

- **names**: a user without ``givenName`` or ``familyName`` (a contact whose legacy name did not
  split with ``contact_name_rule``, or a source that left one out): with two or more words in the
  name it has, the last word becomes ``familyName`` and the words before it ``givenName``; a
  single word fills both; a user with no name at all gets ``Unknown`` in both.
- **username**: the configured mapping (an earlier stage) wins; else the email; else the
  sourcedId.
- **GUID-safe sourcedIds**: every ID and reference holding a character outside
  ``0-9 A-Z a-z . - _ / @`` is escaped the same way everywhere (see :mod:`.ids`).
- **enrollment ``primary``**: ``false`` unless the source said otherwise.
- **org ``identifier``**: the raw SIS ID (``sourceId``), else the sourcedId.
- **a user's orgs** (1.1 ``orgs`` and 1.2 ``roles`` need at least one): the primary org is
  listed among them; a user with none belongs to the district org (when the roster has exactly
  one).
- **titles and codes**: a course without ``courseCode`` (required in 1.2) gets its SIS ID, a
  course without a title its code, a class without a title its course's title and class code,
  an org without a name its identifier, a session without a title its SIS ID.
- **a class's terms** (at least one): the school year of its course; a class without either is
  removed with its enrollments (action ``removed``).
- **vocabularies**: case is corrected (``Scheduled`` → ``scheduled``); a class type outside the
  list becomes ``scheduled``; a ``sex`` outside the list is cleared; other values outside their
  list are reported.

Pure and columnar: tables in, tables and a report out.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from rostersync.model import Roster
from rostersync.pipeline._report import StageReport, entries
from rostersync.pipeline.ids import UNSAFE_PATTERN, escape_expr, unsafe_chars
from rostersync.pipeline.prefix import id_columns

STAGE = "validity"
UNKNOWN_NAME: Final = "Unknown"

#: (table, column) → the OneRoster vocabulary (1.2; 1.1's is a subset for these columns).
VOCABULARIES: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("orgs", "type"): ("department", "school", "district", "local", "state", "national"),
    ("academicSessions", "type"): ("gradingPeriod", "semester", "schoolYear", "term"),
    ("classes", "classType"): ("homeroom", "scheduled"),
    ("enrollments", "role"): ("administrator", "proctor", "student", "teacher"),
    ("users", "role"): (
        "administrator",
        "aide",
        "guardian",
        "parent",
        "proctor",
        "relative",
        "student",
        "teacher",
    ),
    ("demographics", "sex"): ("male", "female", "unspecified", "other"),
}
#: Replacement for a value outside the vocabulary (None: cleared); columns not listed are
#: reported only.
VOCABULARY_FALLBACK: Final[dict[tuple[str, str], str | None]] = {
    ("classes", "classType"): "scheduled",
    ("demographics", "sex"): None,
}


def _blank(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def _names(users: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    given, family = _blank("givenName"), _blank("familyName")
    mask = users.select((given | family).fill_null(True).alias("m"))["m"]
    if not mask.any():
        return users, []
    indexed = users.with_row_index("__row")
    fixed, parts = _fix_names(indexed.filter(mask))
    # only the rows that need a name are worked on; the rest keep their place
    out = pl.concat([indexed.filter(~mask), fixed]).sort("__row").drop("__row")
    return out, parts


def _fix_names(users: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    given, family = _blank("givenName"), _blank("familyName")
    whole = (
        pl.concat_str(
            [
                pl.when(given).then(None).otherwise(pl.col("givenName")),
                pl.when(family).then(None).otherwise(pl.col("familyName")),
            ],
            separator=" ",
            ignore_nulls=True,
        )
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    flagged = users.with_columns(
        (given | family).alias("__fix"), whole.str.split(" ").alias("__words")
    )
    n = pl.col("__words").list.len()
    several = n >= 2
    empty = pl.col("__words").list.first().fill_null("") == ""
    fixed = flagged.with_columns(
        pl.when(~pl.col("__fix"))
        .then(pl.col("givenName"))
        .when(empty)
        .then(pl.lit(UNKNOWN_NAME))
        .when(several)
        .then(pl.col("__words").list.slice(0, n - 1).list.join(" "))
        .otherwise(pl.col("__words").list.first())
        .alias("givenName"),
        pl.when(~pl.col("__fix"))
        .then(pl.col("familyName"))
        .when(empty)
        .then(pl.lit(UNKNOWN_NAME))
        .otherwise(pl.col("__words").list.last())
        .alias("familyName"),
        pl.when(~pl.col("__fix"))
        .then(None)
        .when(empty)
        .then(pl.lit("no name: givenName and familyName set to Unknown"))
        .when(several)
        .then(pl.lit("name incomplete: last word as familyName, the rest as givenName"))
        .otherwise(pl.lit("single-word name: used as both givenName and familyName"))
        .alias("__reason"),
    )
    touched = fixed.filter(pl.col("__fix"))
    part = entries(
        touched,
        stage=STAGE,
        entity="users",
        action="reported",
        reason=pl.col("__reason"),
        detail=pl.concat_str([pl.col("givenName"), pl.col("familyName")], separator=" | "),
    )
    return fixed.drop("__fix", "__words", "__reason"), [part]


def _usernames(users: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    missing = _blank("username")
    has_email = ~_blank("email")
    marked = users.with_columns(
        pl.when(~missing)
        .then(None)
        .when(has_email)
        .then(pl.lit("username absent: the email is used"))
        .otherwise(pl.lit("username absent: the sourcedId is used"))
        .alias("__reason")
    )
    out = marked.with_columns(
        pl.when(~missing)
        .then(pl.col("username"))
        .when(has_email)
        .then(pl.col("email").str.strip_chars())
        .otherwise(pl.col("sourcedId"))
        .alias("username")
    )
    touched = out.filter(pl.col("__reason").is_not_null())
    part = entries(
        touched,
        stage=STAGE,
        entity="users",
        action="reported",
        reason=pl.col("__reason"),
        detail=pl.col("username"),
    )
    return out.drop("__reason"), [part]


def _guid_safe(tables: Roster) -> tuple[Roster, list[pl.DataFrame]]:
    """Every ID and reference escaped with the same characters, so references still match."""
    found: set[str] = set()
    dirty: set[tuple[str, str]] = set()
    for name, table in tables.items():
        for col in id_columns(table.schema):
            values = table[col]
            if isinstance(values.dtype, pl.List):
                values = values.explode()
            chars = unsafe_chars(values.cast(pl.Utf8))
            if chars:
                found.update(chars)
                dirty.add((name, col))
    parts: list[pl.DataFrame] = []
    out: Roster = {}
    for name, table in tables.items():
        if "sourcedId" not in table.columns:
            out[name] = table
            continue
        long_ids = table.filter(pl.col("sourcedId").str.len_chars() > 255)
        if long_ids.height:
            parts.append(
                entries(
                    long_ids,
                    stage=STAGE,
                    entity=name,
                    action="reported",
                    reason="sourcedId longer than 255 characters",
                )
            )
        if not found:
            out[name] = table
            continue
        chars = sorted(found)
        escaped = table.filter(pl.col("sourcedId").str.contains(UNSAFE_PATTERN))
        if escaped.height:
            parts.append(
                entries(
                    escaped,
                    stage=STAGE,
                    entity=name,
                    action="reported",
                    reason="sourcedId outside the GUID character set: escaped",
                    detail=escape_expr(pl.col("sourcedId"), chars),
                )
            )
        exprs = []
        for col in id_columns(table.schema):
            if (name, col) not in dirty:
                continue
            if isinstance(table.schema[col], pl.List):
                exprs.append(pl.col(col).list.eval(escape_expr(pl.element(), chars)))
            else:
                exprs.append(escape_expr(pl.col(col), chars).alias(col))
        out[name] = table.with_columns(exprs)
    return out, parts


def _vocabularies(tables: Roster) -> tuple[Roster, list[pl.DataFrame]]:
    out = dict(tables)
    parts: list[pl.DataFrame] = []
    for (name, col), allowed in VOCABULARIES.items():
        table = out.get(name)
        if table is None or col not in table.columns or table.height == 0:
            continue
        by_lower = {v.lower(): v for v in allowed}
        corrected = pl.col(col).str.to_lowercase().replace_strict(by_lower, default=pl.col(col))
        table = table.with_columns(corrected.alias(col))
        bad = pl.col(col).is_not_null() & ~pl.col(col).is_in(list(allowed))
        outside = table.filter(bad)
        if outside.height == 0:
            out[name] = table
            continue
        fallback = VOCABULARY_FALLBACK.get((name, col), "")
        if fallback == "":
            action_text = "reported as is"
        elif fallback is None:
            action_text = "cleared"
        else:
            action_text = f"replaced by {fallback}"
        parts.append(
            entries(
                outside,
                stage=STAGE,
                entity=name,
                action="reported",
                reason=f"{col} outside the OneRoster vocabulary: {action_text}",
                detail=pl.col(col),
            )
        )
        if fallback != "":
            table = table.with_columns(
                pl.when(bad).then(pl.lit(fallback, dtype=pl.Utf8)).otherwise(pl.col(col)).alias(col)
            )
        out[name] = table
    return out, parts


def _org_identifiers(orgs: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    missing = orgs.filter(_blank("identifier"))
    filled = orgs.with_columns(
        pl.when(_blank("identifier"))
        .then(pl.coalesce(pl.col("sourceId"), pl.col("sourcedId")))
        .otherwise(pl.col("identifier"))
        .alias("identifier")
    )
    part = entries(
        missing,
        stage=STAGE,
        entity="orgs",
        action="reported",
        reason="identifier absent: the SIS ID is used",
        detail=pl.coalesce(pl.col("sourceId"), pl.col("sourcedId")),
    )
    return filled, [part]


def _user_orgs(users: pl.DataFrame, orgs: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    primary, listed = pl.col("primaryOrgSourcedId"), pl.col("orgSourcedIds")
    # the primary org is one of the user's orgs (1.1 serves only the list)
    users = users.with_columns(
        pl.when(primary.is_not_null() & ~listed.list.contains(primary).fill_null(False))
        .then(pl.concat_list(primary, listed.fill_null(pl.lit([], dtype=pl.List(pl.Utf8)))))
        .otherwise(listed)
        .alias("orgSourcedIds")
    )
    districts = orgs.filter(pl.col("type") == "district")["sourcedId"]
    no_org = (pl.col("orgSourcedIds").list.len().fill_null(0) == 0) & pl.col(
        "primaryOrgSourcedId"
    ).is_null()
    missing = users.filter(no_org)
    if missing.height == 0 or districts.len() != 1:
        return users, []
    district = districts[0]
    out = users.with_columns(
        pl.when(no_org)
        .then(pl.concat_list(pl.lit(district)))
        .otherwise(pl.col("orgSourcedIds"))
        .alias("orgSourcedIds")
    )
    part = entries(
        missing,
        stage=STAGE,
        entity="users",
        action="reported",
        reason="no org: the district org is used",
        detail=pl.lit(district),
    )
    return out, [part]


def _class_terms(tables: Roster) -> tuple[Roster, list[pl.DataFrame]]:
    """A class needs a term: its course's school year, else the class is removed (with its
    enrollments, so no enrollment points at a class that is not published)."""
    classes, courses = tables["classes"], tables["courses"]
    no_term = pl.col("termSourcedIds").list.len().fill_null(0) == 0
    if classes.filter(no_term).height == 0:
        return tables, []
    years = courses.select(
        pl.col("sourcedId").alias("courseSourcedId"), pl.col("schoolYearSourcedId").alias("__year")
    )
    joined = classes.join(years, on="courseSourcedId", how="left")
    parts = [
        entries(
            joined.filter(no_term & pl.col("__year").is_not_null()),
            stage=STAGE,
            entity="classes",
            action="reported",
            reason="no term: the course's school year is used",
            detail=pl.col("__year"),
        )
    ]
    filled = joined.with_columns(
        pl.when(no_term)
        .then(pl.concat_list(pl.col("__year")).list.drop_nulls())
        .otherwise(pl.col("termSourcedIds"))
        .alias("termSourcedIds")
    ).drop("__year")
    dropped = filled.filter(no_term)
    out = dict(tables)
    out["classes"] = filled.filter(~no_term)
    if dropped.height:
        parts.append(
            entries(
                dropped,
                stage=STAGE,
                entity="classes",
                action="removed",
                reason="no term and no school year on its course",
            )
        )
        enrollments = tables["enrollments"]
        gone = enrollments.filter(pl.col("classSourcedId").is_in(dropped["sourcedId"].implode()))
        out["enrollments"] = enrollments.join(gone.select("sourcedId"), on="sourcedId", how="anti")
        parts.append(
            entries(
                gone,
                stage=STAGE,
                entity="enrollments",
                action="removed",
                reason="its class was removed (no term)",
            )
        )
    return out, parts


def _fill(
    table: pl.DataFrame, entity: str, col: str, value: pl.Expr, what: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``col`` filled with ``value`` where blank; the report rows of the filled records."""
    blank = _blank(col)
    filled = table.with_columns(
        pl.when(blank).then(value).otherwise(pl.col(col)).cast(pl.Utf8).alias(col)
    )
    part = entries(
        table.filter(blank),
        stage=STAGE,
        entity=entity,
        action="reported",
        reason=f"{col} absent: {what} is used",
        detail=value,
    )
    return filled, part


def _titles(tables: Roster) -> tuple[Roster, list[pl.DataFrame]]:
    """Required titles, names and course codes (see the module docstring)."""
    out = dict(tables)
    parts: list[pl.DataFrame] = []
    sis_id = pl.coalesce(pl.col("sourceId"), pl.col("sourcedId"))
    if "courses" in out:
        courses, part = _fill(out["courses"], "courses", "courseCode", sis_id, "the SIS ID")
        parts.append(part)
        courses, part = _fill(courses, "courses", "title", pl.col("courseCode"), "the course code")
        parts.append(part)
        out["courses"] = courses
        if "classes" in out:
            titles = courses.select(
                pl.col("sourcedId").alias("courseSourcedId"), pl.col("title").alias("__course")
            )
            classes = out["classes"].join(titles, on="courseSourcedId", how="left")
            title = pl.coalesce(
                pl.concat_str([pl.col("__course"), pl.col("classCode")], separator=" "),
                pl.col("__course"),
                sis_id,
            )
            classes, part = _fill(classes, "classes", "title", title, "the course title")
            parts.append(part)
            out["classes"] = classes.drop("__course")
    if "orgs" in out:
        value = pl.coalesce(pl.col("identifier"), sis_id)
        out["orgs"], part = _fill(out["orgs"], "orgs", "name", value, "the identifier")
        parts.append(part)
    if "academicSessions" in out:
        out["academicSessions"], part = _fill(
            out["academicSessions"], "academicSessions", "title", sis_id, "the SIS ID"
        )
        parts.append(part)
    return out, parts


def validity(tables: Roster) -> tuple[Roster, StageReport]:
    """Every record valid by construction; every fallback listed in the report."""
    out, parts = _vocabularies(dict(tables))
    if {"classes", "courses", "enrollments"} <= set(out):
        out, found = _class_terms(out)
        parts += found
    out, found = _titles(out)
    parts += found
    if "users" in out:
        out["users"], found = _names(out["users"])
        parts += found
        out["users"], found = _usernames(out["users"])
        parts += found
        if "orgs" in out:
            out["users"], found = _user_orgs(out["users"], out["orgs"])
            parts += found
    if "orgs" in out:
        out["orgs"], found = _org_identifiers(out["orgs"])
        parts += found
    if "enrollments" in out:
        out["enrollments"] = out["enrollments"].with_columns(pl.col("primary").fill_null(False))
    out, found = _guid_safe(out)
    parts += found
    return out, StageReport.build(STAGE, None, tables, out, parts)
