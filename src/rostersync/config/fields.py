"""Which attributes each of the admin's entity types has, as named in the configuration file.

Attribute names are canonical field names (see :mod:`rostersync.model`). The four people types
(student, contact, teacher, admin) are rows of ``users`` and also carry the demographic fields
(``sex``, race flags…), which live in the ``demographics`` table keyed by the same sourcedId.
``metadata.<key>`` addresses a custom attribute kept in a record's metadata JSON.
"""

from __future__ import annotations

import difflib
import re
from typing import Final

import polars as pl

from rostersync.model import DEMOGRAPHICS, ENTITIES, ENTITY_TYPES, USERS

METADATA_PREFIX: Final = "metadata."

#: Common fields a mapping may not write: identity and provenance belong to the connector.
READ_ONLY: Final = frozenset({"sourcedId", "source", "sourceId", "metadata"})

#: A custom source field such as ``U_DEF_EXT_STUDENTS.school_email`` (``TABLE.field``).
_TABLE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")

#: Demographic fields the people types carry besides their ``users`` columns.
DEMOGRAPHIC_EXTRAS: Final = tuple(
    f.name for f in DEMOGRAPHICS.fields if f.name not in USERS.schema and f.name not in {"metadata"}
)


def entity_of(entity_type: str) -> str:
    """The canonical table holding rows of an entity type (``student`` → ``users``)."""
    return ENTITY_TYPES[entity_type].entity


def attribute_dtypes(entity_type: str) -> dict[str, pl.DataType]:
    """Every attribute of an entity type with its Polars type."""
    entity = ENTITIES[entity_of(entity_type)]
    out: dict[str, pl.DataType] = {f.name: f.dtype for f in entity.fields}
    if entity.name == "users":
        for name in DEMOGRAPHIC_EXTRAS:
            out[name] = DEMOGRAPHICS.schema[name]
    out.pop("metadata", None)
    return out


def is_metadata_attribute(name: str) -> bool:
    return name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX)


def metadata_key(name: str) -> str:
    """The metadata key of ``metadata.<key>`` or of a custom ``TABLE.field`` source field."""
    return name[len(METADATA_PREFIX) :] if is_metadata_attribute(name) else name


def attribute_dtype(entity_type: str, name: str) -> pl.DataType | None:
    """The type of an attribute, ``Utf8`` for ``metadata.<key>``, None when it does not exist."""
    if is_metadata_attribute(name):
        return pl.Utf8()
    return attribute_dtypes(entity_type).get(name)


def known_attributes(entity_type: str, name: str = "") -> str:
    """A hint for a misspelt attribute: the closest names, or all of them."""
    names = sorted(attribute_dtypes(entity_type))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6) if name else []
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "known: " + ", ".join(names) + ", metadata.<key>"


def check_attribute(entity_type: str, name: str) -> str | None:
    """None when ``name`` is an attribute of the type, else what is wrong with it."""
    if attribute_dtype(entity_type, name) is not None:
        return None
    return f"unknown attribute {name!r} for {entity_type}; {known_attributes(entity_type, name)}"


def check_target(entity_type: str, name: str) -> str | None:
    """None when a mapping may write ``name``; else why not."""
    if name in READ_ONLY:
        return f"{name!r} is set by the connector and cannot be mapped"
    if is_metadata_attribute(name):
        return "metadata keys cannot be mapping targets; map onto a canonical attribute"
    return check_attribute(entity_type, name)


def check_source_field(entity_type: str, name: str) -> str | None:
    """None when ``name`` can be read as a source field of the type; else why not.

    A source field is a canonical attribute, ``metadata.<key>``, or a custom ``TABLE.field``
    (read from the record's metadata under that exact key).
    """
    if attribute_dtype(entity_type, name) is not None or name == "metadata":
        return None
    if _TABLE_FIELD.match(name):
        return None
    return (
        f"unknown source field {name!r} for {entity_type}: use a canonical attribute, "
        f"metadata.<key> or a custom field as TABLE.field; {known_attributes(entity_type, name)}"
    )
