"""Picking OneRoster JSON fields out of a page decoded by Polars, as column expressions.

Each picker method knows the JSON shape OneRoster gives a field (text, a GUIDRef, a list of
GUIDRefs, a list of strings, ``userIds``, 1.2 ``roles``, the ``metadata`` object) and checks the
page's inferred type against it: a field of another shape is a problem naming the collection
and the field, never a crash deep in Polars.
"""

from __future__ import annotations

import re

import polars as pl

TEXT_LIST = pl.List(pl.Utf8)
_NULL_MEMBER = re.compile(r'"(?:[^"\\]|\\.)*":null,?')


class Picker:
    """Column expressions over one decoded page, each checked against the JSON type it needs
    (a field of the wrong shape is a problem naming the collection and field)."""

    def __init__(self, entity: str, frame: pl.DataFrame, problems: list[str]) -> None:
        self.entity = entity
        self.schema = frame.schema
        self.problems = problems

    def _wrong(self, key: str, wanted: str) -> pl.Expr:
        self.problems.append(
            f"{self.entity}: field {key} is {self.schema[key]}, not {wanted} as OneRoster has it"
        )
        return pl.lit(None)

    def text(self, key: str) -> pl.Expr:
        dtype = self.schema.get(key)
        if dtype is None or dtype == pl.Null:
            return pl.lit(None, pl.Utf8)
        if dtype.is_nested():
            return self._wrong(key, "text").cast(pl.Utf8)
        value = pl.col(key).cast(pl.Utf8)
        return pl.when(value == "").then(None).otherwise(value)

    def ref(self, key: str) -> pl.Expr:
        dtype = self.schema.get(key)
        if dtype is None or dtype == pl.Null:
            return pl.lit(None, pl.Utf8)
        if not isinstance(dtype, pl.Struct) or "sourcedId" not in {f.name for f in dtype.fields}:
            return self._wrong(key, "a GUIDRef").cast(pl.Utf8)
        return pl.col(key).struct.field("sourcedId").cast(pl.Utf8)

    def refs(self, key: str) -> pl.Expr:
        dtype = self.schema.get(key)
        if dtype is None or dtype == pl.Null:
            return pl.lit(None, TEXT_LIST)
        if isinstance(dtype, pl.List) and dtype.inner == pl.Null:
            return pl.col(key).cast(TEXT_LIST)
        inner = dtype.inner if isinstance(dtype, pl.List) else None
        if not isinstance(inner, pl.Struct) or "sourcedId" not in {f.name for f in inner.fields}:
            return self._wrong(key, "a list of GUIDRefs").cast(TEXT_LIST)
        return pl.col(key).list.eval(pl.element().struct.field("sourcedId").cast(pl.Utf8))

    def texts(self, key: str) -> pl.Expr:
        dtype = self.schema.get(key)
        if dtype is None or dtype == pl.Null:
            return pl.lit(None, TEXT_LIST)
        if not isinstance(dtype, pl.List) or dtype.inner.is_nested():
            return self._wrong(key, "a list of strings").cast(TEXT_LIST)
        return pl.col(key).cast(TEXT_LIST)

    def user_ids(self) -> pl.Expr:
        dtype = self.schema.get("userIds")
        if dtype is None or dtype == pl.Null:
            return pl.lit(None, TEXT_LIST)
        if isinstance(dtype, pl.List) and dtype.inner == pl.Null:
            return pl.col("userIds").cast(TEXT_LIST)
        inner = dtype.inner if isinstance(dtype, pl.List) else None
        names = {f.name for f in inner.fields} if isinstance(inner, pl.Struct) else set()
        if not {"type", "identifier"} <= names:
            return self._wrong("userIds", "a list of {type, identifier}").cast(TEXT_LIST)
        item = pl.element().struct
        return pl.col("userIds").list.eval(
            pl.concat_str(item.field("type").cast(pl.Utf8), pl.lit(":"), item.field("identifier"))
        )

    def metadata(self) -> pl.Expr:
        """``metadata`` as canonical JSON text: keys sorted, absent (null) members left out."""
        dtype = self.schema.get("metadata")
        if not isinstance(dtype, pl.Struct) or not dtype.fields:
            return pl.lit(None, pl.Utf8)
        fields = sorted(f.name for f in dtype.fields)
        meta = pl.col("metadata")
        text = pl.struct(meta.struct.field(f) for f in fields).struct.json_encode()
        text = text.str.replace_all(_NULL_MEMBER.pattern, "").str.replace(",}", "}", literal=True)
        return pl.when(meta.is_null() | (text == "{}")).then(None).otherwise(text)

    def roles(self) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        """(role, primary org, orgs) of 1.2 ``roles``: the primary role, else the first."""
        dtype = self.schema.get("roles")
        inner = dtype.inner if isinstance(dtype, pl.List) else None
        names = {f.name for f in inner.fields} if isinstance(inner, pl.Struct) else set()
        if not {"role", "roleType", "org"} <= names:
            if (
                dtype is not None
                and dtype != pl.Null
                and not (isinstance(dtype, pl.List) and dtype.inner == pl.Null)
            ):
                self._wrong("roles", "a list of {roleType, role, org}")
            none = pl.lit(None, pl.Utf8)
            return none, none, pl.lit(None, TEXT_LIST)
        roles = pl.col("roles")
        primary = roles.list.eval(
            pl.element().filter(pl.element().struct.field("roleType") == "primary")
        ).list.first()
        chosen = pl.coalesce(primary, roles.list.first())
        org = chosen.struct.field("org").struct.field("sourcedId").cast(pl.Utf8)
        orgs = roles.list.eval(
            pl.element().struct.field("org").struct.field("sourcedId").cast(pl.Utf8)
        ).list.unique(maintain_order=True)
        return chosen.struct.field("role").cast(pl.Utf8), org, orgs
