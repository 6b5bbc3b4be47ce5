"""Renumbering: a school's students get new IDs overnight, as after a re-import or an SIS move.

Every student of the school (by school number) gets a fresh ``STUDENTS.ID`` and ``DCID``, above
every existing one, and what points at them follows: ``CC.StudentID``, the ``STUDENTSDCID`` of
the extension and core-field tables, the Contacts module's ``StudentContactAssoc.StudentDCID``
and the duplicates' ground truth. Names, student numbers, emails and schedules stay: the same
people under new keys, which a sync matching by exact ID would read as every one of them
leaving and as many strangers arriving. The change log records one ``renumbered`` row per
student (key: the new DCID).
"""

from __future__ import annotations

import polars as pl

from rostersync.errors import ConfigurationError

from . import _generate as G  # noqa: N812

#: Tables whose column holds a student's DCID.
DCID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("u_def_ext_students", "studentsdcid"),
    ("studentcorefields", "studentsdcid"),
    ("studentcontactassoc", "studentdcid"),
)


def _follow(
    frame: pl.DataFrame, column: str, mapping: pl.DataFrame, old: str, new: str
) -> pl.DataFrame:
    """``frame`` with ``column`` rewritten from ``mapping[old]`` to ``mapping[new]``."""
    return frame.with_columns(
        pl.col(column).replace(mapping[old], mapping[new]).cast(frame.schema[column])
    )


def renumber_school(
    tables: dict[str, pl.DataFrame], duplicates: pl.DataFrame, school: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give every student of school number ``school`` new IDs, in place in ``tables``.

    Returns (the new duplicates frame, the mapping ``old_dcid, new_dcid, old_id, new_id``).
    """
    numbers = tables["schools"]["school_number"]
    if school not in numbers.to_list() or school == G.GRADUATED_SCHOOL:
        known = ", ".join(str(n) for n in numbers.to_list() if n != G.GRADUATED_SCHOOL)
        raise ConfigurationError(
            f"no school number {school} to renumber; the district's schools: {known}",
            setting="school",
        )
    students = tables["students"]
    moving = students.filter(pl.col("schoolid") == school).sort("dcid")
    n = moving.height
    first_dcid = G.max_of(students["dcid"], 0) + 1
    first_id = G.max_of(students["id"], 0) + 1
    mapping = moving.select(
        pl.col("dcid").alias("old_dcid"),
        pl.int_range(first_dcid, first_dcid + n, dtype=pl.Int64).alias("new_dcid"),
        pl.col("id").alias("old_id"),
        pl.int_range(first_id, first_id + n, dtype=pl.Int64).alias("new_id"),
    )
    if n == 0:
        return duplicates, mapping
    tables["students"] = _follow(
        _follow(students, "dcid", mapping, "old_dcid", "new_dcid"),
        "id",
        mapping,
        "old_id",
        "new_id",
    )
    tables["cc"] = _follow(tables["cc"], "studentid", mapping, "old_id", "new_id")
    for table, column in DCID_COLUMNS:
        if table in tables:
            tables[table] = _follow(tables[table], column, mapping, "old_dcid", "new_dcid")
    dups = _follow(duplicates, "dcid", mapping, "old_dcid", "new_dcid")
    dups = _follow(dups, "duplicate_of", mapping, "old_dcid", "new_dcid")
    return dups, mapping
