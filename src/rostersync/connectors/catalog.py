"""The source's field catalog: what the Attributes Mapping step's field finder searches.

A connector that can say which fields its source holds beyond the canonical ones (PowerSchool's
tables, extension groups and extension tables; a CSV's extra columns…) implements
:class:`FieldCatalog`. Each :class:`SourceField` is named exactly as an attribute mapping writes
it (``TABLE.field``, e.g. ``U_DEF_EXT_STUDENTS.school_email``), with the entity types whose
records it can fill. The capability is optional: callers check it with ``isinstance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

FieldKind = Literal["core_table", "extension_table", "table"]


@dataclass(frozen=True)
class SourceField:
    """One field of the source that an attribute mapping can read."""

    #: As a mapping writes it: ``TABLE.field``.
    name: str
    table: str
    field: str
    #: ``core_table`` (the entity's own table), ``extension_table`` (a one-to-one extension of
    #: it) or ``table`` (another table joined on the record's key).
    kind: FieldKind
    #: The entity types (student, teacher…) whose records this field can fill.
    entity_types: tuple[str, ...]
    #: The extension group the source files the field under (e.g. ``u_students_extension``).
    group: str | None = None
    #: The source's type name for the field (String, Long, Date…), when it says.
    type: str | None = None
    #: False when the source says the connection may not read it (not granted).
    readable: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "field": self.field,
            "kind": self.kind,
            "entity_types": list(self.entity_types),
            "group": self.group,
            "type": self.type,
            "readable": self.readable,
        }


@runtime_checkable
class FieldCatalog(Protocol):
    """A connector whose source can list the fields an attribute mapping may read."""

    async def source_fields(self) -> list[SourceField]:
        """Every custom-mappable field of the source, named as a mapping writes it."""
        ...
