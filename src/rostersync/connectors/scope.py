"""Schools mapping at extraction: a source whose extraction reads every school checks that the
schools the mapping names are among them (the pipeline then keeps only those)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from rostersync.errors import SourceDataError


def check_scope(
    orgs: pl.DataFrame, schools: Sequence[str] | None, *, source: str, holder: str, hint: str
) -> None:
    """Refuse a ``schools`` list naming a school ``orgs`` lacks by ``sourcedId`` or
    ``identifier``; ``holder`` says where the schools were read ("the package")."""
    if schools is None:
        return
    found = orgs.filter(pl.col("type") == "school")
    known = set(found["sourcedId"].to_list()) | set(found["identifier"].drop_nulls().to_list())
    unknown = [s for s in map(str, schools) if s not in known]
    if unknown:
        raise SourceDataError(
            f"schools_mapping names schools {holder} does not have: " + ", ".join(unknown),
            source=source,
            hint=hint,
        )
