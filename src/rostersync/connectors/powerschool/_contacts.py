"""PowerSchool contacts → canonical contact users and student–contact links.

Two sources, chosen by the ``contact_module`` setting: the Contacts module tables (PowerSchool
12+: person, studentcontactassoc/detail, email and phone associations, codeset), or the legacy
single-string fields of the v1 ``contact`` expansion (mother, father, emergency contacts), whose
names stay unparsed for the contact-name-parsing stage. Part of the mapping (see :mod:`.mapping`).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from rostersync.connectors.powerschool.mapping import (
    LEGACY_CONTACT_SLOTS,
    _common,
    meta,
    student_ids,
)


def build_legacy_contacts(source: str, students: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Legacy single-string contacts (contact module off) → (contact users, userContacts).

    The name stays unparsed: givenName/familyName are null and the raw string is in
    ``metadata.legacyContactName`` for the contact-name-parsing stage. One student's same name
    in two slots (mother also emergency contact 1) is one contact.
    """
    parts = []
    for priority, (slot, _, phone, relation) in enumerate(LEGACY_CONTACT_SLOTS, start=1):
        parts.append(
            students.select(
                pl.col("student_dcid"),
                pl.col("school_dcid"),
                pl.lit(slot).alias("slot"),
                pl.col(f"c_{slot}_name").str.strip_chars().alias("raw_name"),
                (pl.col(f"c_{slot}_phone") if phone else pl.lit(None, pl.Utf8)).alias("phone"),
                pl.lit(relation).alias("relation"),
                pl.lit(slot.startswith("emergency")).alias("emergency"),
                pl.lit(str(priority)).alias("priority"),
                pl.col("guardian_email"),
            )
        )
    long = pl.concat(parts).filter(pl.col("raw_name").is_not_null() & (pl.col("raw_name") != ""))
    grouped = long.group_by(
        "student_dcid", pl.col("raw_name").str.to_lowercase().alias("_k"), maintain_order=True
    ).agg(
        pl.col("raw_name").first(),
        pl.col("school_dcid").first(),
        pl.col("slot").first(),
        pl.col("phone").drop_nulls().first(),
        pl.col("relation").first(),
        pl.col("emergency").any(),
        pl.col("priority").first(),
        pl.col("guardian_email").first(),
    )
    grouped = grouped.with_columns(
        pl.concat_str(
            pl.lit("contact-"), pl.col("student_dcid"), pl.lit("-"), pl.col("slot")
        ).alias("_cid"),
        pl.concat_str(pl.col("student_dcid"), pl.lit("-"), pl.col("slot")).alias("_raw"),
    )
    users = grouped.select(
        *_common(source, pl.col("_cid"), pl.col("_raw")),
        pl.lit(False).alias("enabledUser"),
        pl.lit(None, pl.Utf8).alias("username"),
        pl.lit(None, pl.Utf8).alias("givenName"),
        pl.lit(None, pl.Utf8).alias("familyName"),
        pl.when(pl.col("relation") == "Emergency Contact")
        .then(pl.lit("guardian"))
        .otherwise(pl.lit("parent"))
        .alias("role"),
        pl.concat_list(pl.col("school_dcid")).alias("orgSourcedIds"),
        pl.col("school_dcid").alias("primaryOrgSourcedId"),
        pl.col("phone"),
        pl.concat_list(student_ids(pl.col("student_dcid"))).alias("agentSourcedIds"),
        # Students.GuardianEmail is one comma list per student, not per contact: kept as is.
        *meta(
            legacyContactName=pl.col("raw_name"),
            legacySlot=pl.col("slot"),
            guardianEmail=pl.col("guardian_email"),
        ),
    )
    links = grouped.select(
        *_common(
            source,
            pl.concat_str(pl.lit("student-"), pl.col("student_dcid"), pl.lit("-"), pl.col("_cid")),
            pl.col("_raw"),
        ),
        student_ids(pl.col("student_dcid")).alias("studentSourcedId"),
        pl.col("_cid").alias("contactSourcedId"),
        pl.col("relation").alias("relationshipType"),
        pl.col("emergency"),
        pl.col("priority"),
    )
    return users, links


def attach_agents(users: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Fill students' ``agentSourcedIds`` with their contacts (contacts already name students)."""
    agents = links.group_by("studentSourcedId").agg(
        pl.col("contactSourcedId").unique(maintain_order=True).alias("_agents")
    )
    return users.join(agents, left_on="sourcedId", right_on="studentSourcedId", how="left").rename(
        {"_agents": "agentSourcedIds"}
    )


def _is_one(col: str) -> pl.Expr:
    return pl.col(col).fill_null("").str.to_lowercase().is_in(["1", "true", "y"])


def _preferred(
    frame: pl.DataFrame, *, flag: str, order: str, value: str, name: str
) -> pl.DataFrame:
    """Each person's one ``value`` (as ``name``): the flagged one first, then by priority."""
    return (
        frame.sort(
            [_is_one(flag), pl.col(order).cast(pl.Int64, strict=False)],
            descending=[True, False],
            nulls_last=True,
        )
        .group_by("personid")
        .agg(pl.col(value).first().alias(name))
    )


#: Relationship display values → OneRoster contact role (anything else is a relative).
PARENT_WORDS = ("mother", "father", "parent", "stepmother", "stepfather")
GUARDIAN_WORDS = ("guardian",)


def build_module_contacts(
    source: str, t: Mapping[str, pl.DataFrame], students: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Contacts module tables → (contact users, userContacts), for the extracted students only.

    ``students`` is the students' users table (sourcedId, sourceId, primaryOrgSourcedId). Only
    active student–contact details count; a person's role is parent if any of their
    relationships is a parent one, else guardian, else relative.
    """
    codes = t["codeset"].select(
        pl.col("codesetid"), pl.coalesce(pl.col("displayvalue"), pl.col("code")).alias("rel")
    )
    in_scope = students.select(
        pl.col("sourceId").alias("studentdcid"),
        pl.col("sourcedId").alias("studentSourcedId"),
        pl.col("primaryOrgSourcedId").alias("_school"),
    )
    detail = t["studentcontactdetail"].filter(pl.col("isactive").is_null() | _is_one("isactive"))
    links = (
        t["studentcontactassoc"]
        .join(in_scope, on="studentdcid", how="inner")
        .join(detail, on="studentcontactassocid", how="inner")
        .join(codes, left_on="relationshiptypecodesetid", right_on="codesetid", how="left")
        .with_columns((pl.lit("contact-") + pl.col("personid")).alias("contactSourcedId"))
        .unique(["studentdcid", "personid"], keep="first", maintain_order=True)
    )
    emails = _preferred(
        t["personemailaddressassoc"].join(t["emailaddress"], on="emailaddressid", how="inner"),
        flag="isprimaryemailaddress",
        order="emailaddresspriorityorder",
        value="emailaddress",
        name="email",
    )
    phones = t["personphonenumberassoc"].join(t["phonenumber"], on="phonenumberid", how="inner")
    phone = _preferred(
        phones,
        flag="ispreferred",
        order="phonenumberpriorityorder",
        value="phonenumber",
        name="phone",
    )
    sms = (
        phones.filter(_is_one("issms"))
        .group_by("personid")
        .agg(pl.col("phonenumber").first().alias("sms"))
    )
    rel = pl.col("rel").fill_null("").str.to_lowercase()
    per_person = links.group_by("personid", maintain_order=True).agg(
        rel.is_in(list(PARENT_WORDS)).any().alias("_parent"),
        rel.str.contains("guardian").any().alias("_guardian"),
        pl.col("studentSourcedId").unique(maintain_order=True).alias("agentSourcedIds"),
        pl.col("_school").drop_nulls().unique(maintain_order=True).alias("orgSourcedIds"),
    )
    people = (
        t["person"]
        .join(per_person, left_on="id", right_on="personid", how="inner")
        .join(emails, left_on="id", right_on="personid", how="left")
        .join(phone, left_on="id", right_on="personid", how="left")
        .join(sms, left_on="id", right_on="personid", how="left")
    )
    users = people.select(
        *_common(source, pl.lit("contact-") + pl.col("id"), pl.col("id")),
        pl.lit(False).alias("enabledUser"),
        pl.lit(None, pl.Utf8).alias("username"),
        pl.col("firstname").alias("givenName"),
        pl.col("lastname").alias("familyName"),
        pl.col("middlename").alias("middleName"),
        pl.when(pl.col("_parent"))
        .then(pl.lit("parent"))
        .when(pl.col("_guardian"))
        .then(pl.lit("guardian"))
        .otherwise(pl.lit("relative"))
        .alias("role"),
        pl.col("orgSourcedIds"),
        pl.col("orgSourcedIds").list.first().alias("primaryOrgSourcedId"),
        pl.col("email"),
        pl.col("sms"),
        pl.col("phone"),
        pl.col("agentSourcedIds"),
        *meta(personActive=pl.col("isactive")),
    )
    user_contacts = links.select(
        *_common(
            source,
            pl.col("studentSourcedId") + pl.lit("-") + pl.col("contactSourcedId"),
            pl.col("studentcontactassocid"),
        ),
        pl.col("studentSourcedId"),
        pl.col("contactSourcedId"),
        pl.col("rel").alias("relationshipType"),
        _is_one("iscustodial").alias("custodial"),
        _is_one("isemergency").alias("emergency"),
        _is_one("liveswithflg").alias("livesWith"),
        _is_one("receivesmailflg").alias("receivesMail"),
        pl.col("contactpriorityorder").alias("priority"),
    )
    return users, user_contacts
