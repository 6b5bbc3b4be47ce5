"""Row hashes for change detection: one int64 per record over its canonical columns.

Polars' ``hash_rows`` is fast and columnar, but its values are only promised to be stable
within one Polars release: an upgrade may hash the same row differently. Every roster version
therefore records a ``hash_tag`` naming how its hashes were made; when the running tag differs
from the current version's, the store re-hashes the current rows before diffing (a slow path,
but correct) instead of reporting every record as updated.

The hash covers a record's *content* (``Entity.content_names``): ``dateLastModified`` is left
out, because the store stamps it when the content changes; hashing it would make every stamped
row differ from the (unstamped) candidate of the next sync. Rows hashed before that rule carry a
tag without the ``content`` mark and are re-tagged by the next publish like after an upgrade.
"""

from __future__ import annotations

import polars as pl

from rostersync.model import ENTITIES

#: Fixed seed so the same rows hash the same in every process.
_SEED = 0x5EED


def hash_tag() -> str:
    """How this process makes row hashes."""
    return f"polars-{pl.__version__}-seed{_SEED}-content"


def row_hashes(entity: str, table: pl.DataFrame) -> pl.Series:
    """Hash of each row over the entity's content columns, as a signed int64 Series.

    Polars yields u64; SQL has signed 64-bit integers only, so the bits are reinterpreted
    (not converted) into the int64 range — equal hashes stay equal, nothing overflows.
    """
    columns = ENTITIES[entity].content_names
    hashed = table.select(columns).hash_rows(seed=_SEED)
    return hashed.reinterpret(signed=True).alias("row_hash")
