"""Extraction baselines: what an incremental source folds its next extraction into.

One row per (district, source) in ``extraction_baselines``: the change-tracking cursor, the
fingerprint of what was read, when the last full pull was, and the frames themselves as a zip of
Arrow IPC files (one per frame, compressed). Saving replaces the previous row in one transaction,
so a reader sees the old baseline or the new one, never a mix. The store does not interpret the
frames; the connector that wrote them does.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from rostersync.clock import utcnow
from rostersync.store._store import Store
from rostersync.store.schema import extraction_baselines

#: Frame names are file names inside the zip; "/" nests them (``co-teachers/sections``).
_SUFFIX = ".arrow"


@dataclass(frozen=True)
class StoredBaseline:
    """A source's baseline as the store keeps it."""

    cursor: str
    fingerprint: str
    full_at: datetime
    frames: Mapping[str, pl.DataFrame]
    saved_at: datetime | None = None
    run_id: int | None = None


def pack_frames(frames: Mapping[str, pl.DataFrame]) -> bytes:
    """Frames → one zip of Arrow IPC files (zstd-compressed inside)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, frame in frames.items():
            part = io.BytesIO()
            frame.write_ipc(part, compression="zstd")
            archive.writestr(name + _SUFFIX, part.getvalue())
    return buffer.getvalue()


def unpack_frames(blob: bytes) -> dict[str, pl.DataFrame]:
    """The frames :func:`pack_frames` packed."""
    out: dict[str, pl.DataFrame] = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for member in archive.namelist():
            if member.endswith(_SUFFIX):
                out[member[: -len(_SUFFIX)]] = pl.read_ipc(io.BytesIO(archive.read(member)))
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def load_baseline(store: Store, district_id: int, source: str) -> StoredBaseline | None:
    """The source's baseline, or None when it has none (its next extraction is a full pull)."""
    t = extraction_baselines
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(t).where(t.c.district_id == district_id, t.c.source == source)
        ).first()
    if row is None:
        return None
    try:
        frames = unpack_frames(row.frames)
    except (zipfile.BadZipFile, OSError, pl.exceptions.ComputeError):
        return None  # unreadable: a full pull replaces it
    return StoredBaseline(
        row.cursor,
        row.fingerprint,
        _aware(row.full_at),
        frames,
        _aware(row.saved_at),
        row.run_id,
    )


def save_baseline(
    store: Store,
    district_id: int,
    source: str,
    baseline: StoredBaseline,
    *,
    run_id: int | None = None,
) -> None:
    """Replace the source's baseline (one transaction)."""
    t = extraction_baselines
    values = {
        "district_id": district_id,
        "source": source,
        "cursor": baseline.cursor,
        "fingerprint": baseline.fingerprint,
        "full_at": baseline.full_at,
        "saved_at": utcnow(),
        "run_id": run_id,
        "frames": pack_frames(baseline.frames),
    }
    with store.engine.begin() as conn:
        conn.execute(t.delete().where(t.c.district_id == district_id, t.c.source == source))
        conn.execute(t.insert().values(**values))


def drop_baseline(store: Store, district_id: int, source: str) -> bool:
    """Forget the source's baseline (its next extraction is a full pull); True if it had one."""
    t = extraction_baselines
    with store.engine.begin() as conn:
        done = conn.execute(t.delete().where(t.c.district_id == district_id, t.c.source == source))
    return bool(done.rowcount)
