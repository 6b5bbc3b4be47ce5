"""Re-linking's view of the last published roster: read only as far as needed.

The pipeline is pure; the sync hands it an object that reads the published version table by
table (its IDs first), and tests hand it a roster in memory (:class:`PublishedRoster`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import polars as pl

from rostersync.model import Roster


class PreviousRoster(Protocol):
    """The last published roster, read only as far as needed."""

    def ids(self, entity: str) -> pl.Series:
        """The sourcedIds of a table."""
        ...

    def table(self, entity: str) -> pl.DataFrame:
        """A whole table."""
        ...


@dataclass
class PublishedRoster:
    """A :class:`PreviousRoster` over a roster in memory."""

    roster: Roster

    def ids(self, entity: str) -> pl.Series:
        return self.roster[entity]["sourcedId"]

    def table(self, entity: str) -> pl.DataFrame:
        return self.roster[entity]
