"""Incremental extraction in a run: each incremental source's baseline loaded before its
extraction and the new one saved after it.

A connector whose capabilities say ``incremental`` gets the source's stored baseline and folds
what changed into it (see :mod:`rostersync.connectors.powerschool.incremental`); the extraction
it returns carries the baseline for the next run. The new baseline is saved as soon as every
source was extracted: it describes the source, not what was published, so a run that is then
held or fails in a later phase still leaves the next run only the changes to read.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from rostersync.config import DistrictConfig
from rostersync.connectors import Baseline, get_connector_class
from rostersync.errors import ConfigurationError
from rostersync.store import Store
from rostersync.store.baselines import StoredBaseline, load_baseline, save_baseline


def is_incremental(app: str) -> bool:
    """Whether the connector of ``app`` folds changes into a baseline: it declares the
    ``incremental`` capability and its ``extract`` takes a ``baseline`` (a connector that is
    incremental in another way, such as a ``dateLastModified`` delta, is called as usual)."""
    try:
        cls = get_connector_class(app)
    except ConfigurationError:
        return False
    if not getattr(getattr(cls, "capabilities", None), "incremental", False):
        return False
    try:
        return "baseline" in inspect.signature(cls.extract).parameters
    except (TypeError, ValueError):
        return False


def load_baselines(
    store: Store, district_id: int, config: DistrictConfig
) -> dict[str, Baseline | None]:
    """Each incremental source's stored baseline (None when it has none)."""
    out: dict[str, Baseline | None] = {}
    for source in config.sources:
        if not is_incremental(source.app):
            continue
        kept = load_baseline(store, district_id, source.name)
        out[source.name] = (
            None
            if kept is None
            else Baseline(kept.cursor, kept.frames, kept.fingerprint, kept.full_at)
        )
    return out


def save_baselines(
    store: Store, district_id: int, baselines: Mapping[str, Baseline | None], run_id: int
) -> list[str]:
    """Save the baselines the extractions returned; the sources saved."""
    saved = []
    for name, baseline in baselines.items():
        if baseline is None:
            continue
        stored = StoredBaseline(
            baseline.cursor, baseline.fingerprint, baseline.full_at, baseline.frames
        )
        save_baseline(store, district_id, name, stored, run_id=run_id)
        saved.append(name)
    return saved
