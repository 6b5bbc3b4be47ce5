"""Canonical rosters built for the change tests (columnar, deterministic)."""

from __future__ import annotations

import polars as pl

from rostersync.model import Roster, conform, empty_roster


def make_roster(n_users: int, n_schools: int = 3, *, source: str = "sis") -> Roster:
    """A small district: the district org, schools, students spread over schools, classes."""
    roster = empty_roster()
    schools = [f"sch-{i}" for i in range(n_schools)]
    roster["orgs"] = conform(
        "orgs",
        pl.DataFrame(
            {
                "sourcedId": ["dist", *schools],
                "name": ["District", *[f"School {i}" for i in range(n_schools)]],
                "type": ["district", *["school"] * n_schools],
                "parentSourcedId": [None, *["dist"] * n_schools],
            }
        ).with_columns(
            pl.lit("active").alias("status"),
            pl.lit(source).alias("source"),
            pl.col("sourcedId").alias("sourceId"),
        ),
    )
    idx = pl.int_range(0, n_users, eager=True)
    users = pl.DataFrame({"i": idx}).select(
        pl.format("u{}", pl.col("i")).alias("sourcedId"),
        pl.lit("active").alias("status"),
        pl.lit(source).alias("source"),
        pl.col("i").cast(pl.Utf8).alias("sourceId"),
        pl.lit(True).alias("enabledUser"),
        pl.format("user{}", pl.col("i")).alias("username"),
        pl.format("Given{}", pl.col("i")).alias("givenName"),
        pl.format("Family{}", pl.col("i") % 97).alias("familyName"),
        pl.when(pl.col("i") % 10 == 0)
        .then(pl.lit("teacher"))
        .otherwise(pl.lit("student"))
        .alias("role"),
        pl.format("sch-{}", pl.col("i") % n_schools).alias("primaryOrgSourcedId"),
        pl.concat_list(pl.format("sch-{}", pl.col("i") % n_schools)).alias("orgSourcedIds"),
        pl.format("user{}@example.org", pl.col("i")).alias("email"),
    )
    roster["users"] = conform("users", users)
    classes = pl.DataFrame({"i": pl.int_range(0, max(n_users // 10, 1), eager=True)}).select(
        pl.format("c{}", pl.col("i")).alias("sourcedId"),
        pl.lit("active").alias("status"),
        pl.lit(source).alias("source"),
        pl.col("i").cast(pl.Utf8).alias("sourceId"),
        pl.format("Class {}", pl.col("i")).alias("title"),
        pl.lit("crs").alias("courseSourcedId"),
        pl.lit("scheduled").alias("classType"),
        pl.format("sch-{}", pl.col("i") % n_schools).alias("schoolSourcedId"),
        pl.concat_list(pl.lit("term1")).alias("termSourcedIds"),
    )
    roster["classes"] = conform("classes", classes)
    return roster


def with_tweaks(
    roster: Roster, *, rename: int = 0, drop: int = 0, add: int = 0, deactivate: int = 0
) -> Roster:
    """Day two: rename the first ``rename`` users, drop the last ``drop``, add ``add`` new ones,
    and mark ``deactivate`` users after the renamed ones ``tobedeleted``."""
    out = dict(roster)
    users = roster["users"]
    n = users.height
    i = pl.int_range(0, pl.len())
    users = users.with_columns(
        pl.when(i < rename)
        .then(pl.col("givenName") + "-renamed")
        .otherwise(pl.col("givenName"))
        .alias("givenName"),
        pl.when((i >= rename) & (i < rename + deactivate))
        .then(pl.lit("tobedeleted"))
        .otherwise(pl.col("status"))
        .alias("status"),
    ).head(n - drop)
    if add:
        extra = roster["users"].head(1).select(pl.exclude("sourcedId", "sourceId", "username"))
        new = pl.DataFrame({"k": pl.int_range(0, add, eager=True)}).select(
            pl.format("new{}", pl.col("k")).alias("sourcedId"),
            pl.format("n{}", pl.col("k")).alias("sourceId"),
            pl.format("newuser{}", pl.col("k")).alias("username"),
        )
        users = pl.concat([users, conform("users", new.join(extra, how="cross"))])
    out["users"] = conform("users", users)
    return out
