"""Per-app sharing rules: which schools, entity types and fields an API client may see.

A rule set is granted to an API client (``rostersync api-clients create … --schools …
--entities … --fields …``) and enforced in every OneRoster query and in the CSV export, so what
an app may not see is absent from every endpoint (nested ones included), not merely hidden.

The same rules have two implementations, kept side by side here: SQL conditions for the REST
provider (:meth:`SharingRules.sql_condition`) and Polars filters for the CSV export
(:meth:`SharingRules.apply`). Tests check that both select the same rows.

Grants (``entities``): ``orgs academicSessions courses classes enrollments demographics`` and,
for users, the admin's people types ``students teachers contacts administrators``. An
enrollment is visible only if its role's people type is granted (a student's enrollment
reveals the student). Demographics are visible only for visible users.

Fields (``--fields entity.field``): an entity named there keeps only the fields listed plus
every field the OneRoster specification requires of it in 1.1 or 1.2 (:data:`SPEC_REQUIRED`:
1.2 ``roles`` — hence the role, orgs and primary org —, 1.1 ``role`` and ``orgs``, names,
``enabledUser``, a class's course, school and terms…): a restriction never produces a record a
strict consumer must reject.

Sensitive data (``--grant``): private by default. A client built from an admin's grants sees
the roster core only; each category of :data:`SENSITIVE` must be granted by name —
``demographics`` (the demographics collection), ``birth_dates``, ``state_ids`` (``userIds``,
which carries the state ID), ``addresses`` and ``contact_details`` (guardians, parents and
relatives as users, with their emails and phones, and the student–contact links). A user's
``metadata`` carries the SIS's address, state ID and guardian email, so it is shared only with
``addresses``, ``state_ids`` and ``contact_details`` all granted. A category not granted wins over
``--entities`` and ``--fields``. Rules stored before categories existed (no ``sensitive`` key)
grant every category: existing clients keep what they had.

Schools: a class, enrollment or school org must belong to a granted school; courses and
calendars belong to a granted school or to a non-school org (the district); users must have a
granted school among their orgs (or as primary org).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import polars as pl
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.catalog import RESOURCES
from rostersync.model import ADMIN_ROLES, CONTACT_ROLES, ENTITIES, STUDENT_ROLES, TEACHER_ROLES

PEOPLE_GRANTS: Final[dict[str, tuple[str, ...]]] = {
    "students": STUDENT_ROLES,
    "teachers": (*TEACHER_ROLES, "proctor"),
    "contacts": CONTACT_ROLES,
    "administrators": ADMIN_ROLES,
}
ENTITY_GRANTS: Final = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "enrollments",
    "demographics",
)
GRANTS: Final = (*ENTITY_GRANTS, *PEOPLE_GRANTS)
#: Sensitive categories a client sees only when granted by name, with what each covers.
SENSITIVE: Final[dict[str, str]] = {
    "demographics": "the demographics collection: sex, race and ethnicity, birthplace",
    "birth_dates": "birth dates (users.birthDate, demographics.birthDate)",
    "state_ids": "state IDs (users.userIds, users.metadata)",
    "addresses": "home addresses (users.metadata: street, city, state, postalCode)",
    "contact_details": "guardians, parents and relatives with their emails and phones, and "
    "the student-contact links (userContacts, users.metadata guardianEmail)",
}
#: Columns withheld unless the category is granted: (entity, column) → categories needed.
SENSITIVE_COLUMNS: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("users", "birthDate"): frozenset({"birth_dates"}),
    ("demographics", "birthDate"): frozenset({"birth_dates"}),
    ("users", "userIds"): frozenset({"state_ids"}),
    ("users", "metadata"): frozenset({"addresses", "state_ids", "contact_details"}),
}
#: Enrollment role → the people grant it needs.
ENROLLMENT_ROLE_GRANT: Final = {
    "student": "students",
    "teacher": "teachers",
    "proctor": "teachers",
    "administrator": "administrators",
}
ALWAYS_FIELDS: Final = frozenset({"sourcedId", "status", "dateLastModified"})
#: Canonical columns feeding a field the OneRoster spec requires (1.1 or 1.2), per entity:
#: kept whatever a ``--fields`` restriction says.
SPEC_REQUIRED: Final[dict[str, frozenset[str]]] = {
    entity: frozenset(
        column
        for version in RESOURCES.values()
        if entity in version
        for f in version[entity].fields
        if f.required
        for column in f.columns
    )
    for entity in {e for version in RESOURCES.values() for e in version}
}

TableLookup = Mapping[str, sa.Table]


def _json_list_has_any(col: ColumnElement[Any], values: Iterable[str]) -> ColumnElement[bool]:
    """SQL: a JSON array-of-strings column contains one of ``values`` (bound LIKE patterns)."""
    clauses = [
        col.like(
            '%"' + v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%',
            escape="\\",
        )
        for v in values
    ]
    return sa.or_(*clauses) if clauses else sa.false()


@dataclass(frozen=True)
class SharingRules:
    """What one API client may see. ``None`` means "everything" for that dimension."""

    schools: frozenset[str] | None = None
    entities: frozenset[str] | None = None
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Sensitive categories granted (:data:`SENSITIVE`); ``None``: all of them.
    sensitive: frozenset[str] | None = None

    @classmethod
    def everything(cls) -> SharingRules:
        return cls()

    @classmethod
    def build(
        cls,
        *,
        schools: Iterable[str] | None = None,
        entities: Iterable[str] | None = None,
        fields: Iterable[str] | None = None,
        sensitive: Iterable[str] = (),
    ) -> SharingRules:
        """Validate grants as an admin typed them (``fields`` as ``entity.field``); sensitive
        categories not named in ``sensitive`` are withheld (``"all"`` grants every one)."""
        granted = frozenset(g.strip() for g in sensitive if g.strip())
        if "all" in granted:
            granted = (granted - {"all"}) | frozenset(SENSITIVE)
        unknown_sensitive = sorted(granted - set(SENSITIVE))
        if unknown_sensitive:
            raise ConfigurationError(
                f"--grant: unknown sensitive data category {', '.join(unknown_sensitive)}",
                setting="--grant",
                hint=f"choose from {', '.join(SENSITIVE)} (or all)",
            )
        ents = None
        if entities is not None:
            ents = frozenset(e.strip() for e in entities if e.strip())
            unknown = sorted(ents - set(GRANTS))
            if unknown:
                raise ConfigurationError(
                    f"--entities: unknown entity grant(s) {', '.join(unknown)}",
                    setting="--entities",
                    hint=f"choose from {', '.join(GRANTS)}",
                )
        grants: dict[str, set[str]] = {}
        for item in fields or ():
            entity, sep, name = item.strip().partition(".")
            if not sep or entity not in ENTITIES or name not in ENTITIES[entity].schema:
                raise ConfigurationError(
                    f"--fields: unknown field grant {item!r}",
                    setting="--fields",
                    hint="write entity.field with canonical names, e.g. users.email",
                )
            grants.setdefault(entity, set()).add(name)
        school_set = frozenset(s.strip() for s in schools if s.strip()) if schools else None
        return cls(school_set, ents, {k: frozenset(v) for k, v in grants.items()}, granted)

    def to_json(self) -> dict[str, Any]:
        return {
            "schools": sorted(self.schools) if self.schools is not None else None,
            "entities": sorted(self.entities) if self.entities is not None else None,
            "fields": {k: sorted(v) for k, v in sorted(self.fields.items())},
            "sensitive": sorted(self.sensitive) if self.sensitive is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SharingRules:
        if not data:
            return cls()
        schools = data.get("schools")
        entities = data.get("entities")
        sensitive = data.get("sensitive")  # absent in rules stored before categories: all
        return cls(
            frozenset(schools) if schools is not None else None,
            frozenset(entities) if entities is not None else None,
            {k: frozenset(v) for k, v in (data.get("fields") or {}).items()},
            frozenset(sensitive) if sensitive is not None else None,
        )

    @cached_property
    def _key(self) -> tuple[object, ...]:
        return (
            self.schools,
            self.entities,
            tuple(sorted((k, tuple(sorted(v))) for k, v in self.fields.items())),
            tuple(sorted(self.sensitive)) if self.sensitive is not None else None,
        )

    def cache_key(self) -> tuple[object, ...]:
        """A hashable identity of these rules (equal rules, equal keys), for caches."""
        return self._key

    # -- what is granted --------------------------------------------------------------------

    def sensitive_granted(self, category: str) -> bool:
        return self.sensitive is None or category in self.sensitive

    def grants(self, name: str) -> bool:
        if name == "demographics" and not self.sensitive_granted("demographics"):
            return False
        if name == "contacts" and not self.sensitive_granted("contact_details"):
            return False
        return self.entities is None or name in self.entities

    def _all_people(self) -> bool:
        return self.entities is None and self.sensitive_granted("contact_details")

    def user_roles(self) -> tuple[str, ...] | None:
        """User roles visible to this client; ``None`` = all."""
        if self._all_people():
            return None
        return tuple(r for g, roles in PEOPLE_GRANTS.items() if self.grants(g) for r in roles)

    def enrollment_roles(self) -> tuple[str, ...] | None:
        if self._all_people():
            return None
        return tuple(r for r, g in ENROLLMENT_ROLE_GRANT.items() if self.grants(g))

    def entity_visible(self, entity: str) -> bool:
        """Whether any row of a canonical entity can be visible."""
        if entity == "users":
            roles = self.user_roles()
            return roles is None or bool(roles)
        if entity == "userContacts":
            return self.grants("contacts") and self.grants("students")
        return self.grants(entity)

    def column_visible(self, entity: str, column: str) -> bool:
        if column in ALWAYS_FIELDS:
            return True
        needs = SENSITIVE_COLUMNS.get((entity, column))
        if needs is not None and not all(self.sensitive_granted(c) for c in needs):
            return False
        allowed = self.fields.get(entity)
        if allowed is None:
            return True
        return (
            column in allowed
            or column in ENTITIES[entity].required
            or column in SPEC_REQUIRED.get(entity, ())
        )

    # -- SQL (REST provider) ----------------------------------------------------------------

    def sql_condition(
        self, entity: str, tables: TableLookup, district_id: int
    ) -> ColumnElement[bool]:
        """Rows of ``entity`` (current version) this client may see, as a SQL condition."""
        t = tables[entity]
        c = t.c
        if not self.entity_visible(entity):
            return sa.false()
        conds: list[ColumnElement[bool]] = []
        if entity == "users":
            roles = self.user_roles()
            if roles is not None:
                conds.append(c.role.in_(roles))
        elif entity == "enrollments":
            roles = self.enrollment_roles()
            if roles is not None:
                conds.append(c.role.in_(roles))
        elif entity == "demographics":
            users = tables["users"]
            visible = (
                sa.select(users.c.sourcedId)
                .where(
                    users.c.district_id == district_id,
                    users.c.valid_to.is_(None),
                    self.sql_condition("users", tables, district_id),
                )
                .scalar_subquery()
            )
            conds.append(c.sourcedId.in_(visible))
        if self.schools is not None:
            schools = sorted(self.schools)
            if entity == "orgs":
                conds.append(sa.or_(c.type != "school", c.sourcedId.in_(schools)))
            elif entity in ("classes", "enrollments"):
                conds.append(c.schoolSourcedId.in_(schools))
            elif entity in ("courses", "academicSessions"):
                orgs = tables["orgs"]
                upper = (
                    sa.select(orgs.c.sourcedId)
                    .where(
                        orgs.c.district_id == district_id,
                        orgs.c.valid_to.is_(None),
                        orgs.c.type != "school",
                    )
                    .scalar_subquery()
                )
                org_col = c.orgSourcedId
                conds.append(
                    sa.or_(org_col.is_(None), org_col.in_(schools), org_col.in_(upper))
                    if entity == "academicSessions"
                    else sa.or_(org_col.in_(schools), org_col.in_(upper))
                )
            elif entity == "users":
                conds.append(
                    sa.or_(
                        c.primaryOrgSourcedId.in_(schools),
                        _json_list_has_any(c.orgSourcedIds, schools),
                    )
                )
        return sa.and_(sa.true(), *conds)

    # -- Polars (CSV export) ----------------------------------------------------------------

    def apply(self, roster: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """The part of ``roster`` this client may see; withheld fields become nulls."""
        out: dict[str, pl.DataFrame] = {}
        for entity, table in roster.items():
            if not self.entity_visible(entity):
                out[entity] = table.clear()
                continue
            out[entity] = table.filter(self._polars_mask(entity, table, roster))
        users = out.get("users")
        if users is not None and "demographics" in out:
            out["demographics"] = out["demographics"].filter(
                pl.col("sourcedId").is_in(users["sourcedId"].implode())
            )
        if users is not None and (self.user_roles() is not None or self.schools is not None):
            # A related user the client cannot see (a contact, say) is not named either.
            visible = users["sourcedId"]
            out["users"] = users.with_columns(
                pl.col("agentSourcedIds").list.eval(
                    pl.element().filter(pl.element().is_in(visible))
                )
            )
        if users is not None and "userContacts" in out:
            ids = users["sourcedId"].implode()
            out["userContacts"] = out["userContacts"].filter(
                pl.col("studentSourcedId").is_in(ids) & pl.col("contactSourcedId").is_in(ids)
            )
        for entity, table in out.items():
            hidden = [c for c in table.columns if not self.column_visible(entity, c)]
            if hidden:
                out[entity] = table.with_columns(
                    pl.lit(None, dtype=table.schema[c]).alias(c) for c in hidden
                )
        return out

    def _polars_mask(
        self, entity: str, table: pl.DataFrame, roster: Mapping[str, pl.DataFrame]
    ) -> pl.Expr:
        mask = pl.lit(True)
        if entity == "users" and (roles := self.user_roles()) is not None:
            mask = mask & pl.col("role").is_in(list(roles))
        if entity == "enrollments" and (roles := self.enrollment_roles()) is not None:
            mask = mask & pl.col("role").is_in(list(roles))
        if self.schools is None:
            return mask
        schools = sorted(self.schools)
        orgs = roster.get("orgs", ENTITIES["orgs"].empty())
        upper = orgs.filter(pl.col("type") != "school")["sourcedId"].to_list()
        if entity == "orgs":
            return mask & ((pl.col("type") != "school") | pl.col("sourcedId").is_in(schools))
        if entity in ("classes", "enrollments"):
            return mask & pl.col("schoolSourcedId").is_in(schools)
        if entity in ("courses", "academicSessions"):
            ok = pl.col("orgSourcedId").is_in(schools + upper)
            if entity == "academicSessions":
                ok = ok | pl.col("orgSourcedId").is_null()
            return mask & ok.fill_null(False)
        if entity == "users":
            in_orgs = pl.col("orgSourcedIds").list.eval(pl.element().is_in(schools)).list.any()
            return mask & (pl.col("primaryOrgSourcedId").is_in(schools) | in_orgs).fill_null(False)
        return mask
