"""Publish plans: the changes a caller already computed, handed to ``Store.publish`` so it does
not diff the candidate a second time ("no second diff").

A sync diffs its candidate roster against the version it was built from (``changes``); that
diff names, per entity, the sourcedIds added, updated and deleted. A publish given those IDs
writes exactly them: it skips reading the base version's hashes and its own diff. The plan is
trusted only for the base version it names and only when the stored hashes were made the way
this process makes them (otherwise the unchanged rows must be re-tagged, which needs the
store's own diff); a plan whose IDs do not fit the candidate (an added or updated ID the
candidate lacks, a deleted one it has) is ignored and the publish diffs by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class EntityPlan:
    """One entity's changes as sourcedId Series (any order, no repeats)."""

    added: pl.Series
    updated: pl.Series
    deleted: pl.Series


@dataclass(frozen=True)
class PublishPlan:
    """Per-entity changes of a candidate roster against ``base_version`` (``None``: no version
    yet). Every canonical entity must be present, or the plan is not used."""

    base_version: int | None
    entities: Mapping[str, EntityPlan]
