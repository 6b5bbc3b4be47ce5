"""The connector interface: what every source app's connector offers the rest of rostersync.

A connector knows one protocol and maps that source's shapes onto the canonical tables of
:mod:`rostersync.model`; nothing outside its package knows the source exists. Connectors are found
through the entry-point group ``rostersync.connectors`` (see :mod:`rostersync.connectors`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import httpx
import polars as pl

from rostersync.connectors.health import SourceHealth
from rostersync.model import Roster

if TYPE_CHECKING:
    # Only for annotations: a connector reads its source's settings, it does not load them.
    from rostersync.config import SourceConfig


@dataclass(frozen=True)
class SchoolInfo:
    """A school as the source lists it, for the schools-mapping step."""

    source_id: str
    name: str
    number: str | None = None
    low_grade: str | None = None
    high_grade: str | None = None


@dataclass
class ConnectionReport:
    """The result of "Test connection": either what is wrong, or what we found."""

    ok: bool
    message: str
    hint: str | None = None
    district_name: str | None = None
    school_count: int | None = None
    page_sizes: dict[str, int] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "hint": self.hint,
            "district_name": self.district_name,
            "school_count": self.school_count,
            "page_sizes": self.page_sizes,
            "missing_fields": self.missing_fields,
            "details": self.details,
        }


@dataclass(frozen=True)
class ProgressEvent:
    """One step of an extraction: a page of an entity arrived (or the entity finished)."""

    entity: str
    records: int
    pages_done: int
    pages_total: int | None
    finished: bool = False


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class RequestStats:
    """What a connector's requests did: for progress displays, run records and benchmarks."""

    requests: int = 0
    retries: int = 0
    #: Token renewals (one per stale token however many requests were waiting on it).
    renewals: int = 0
    #: Requests refused as throttled (429/503 "too many requests") and the seconds waited.
    throttled: int = 0
    throttle_wait_seconds: float = 0.0
    bytes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """What an incremental connector keeps between runs: the source frames of its last
    extraction, folded up to ``cursor`` (the source's change-tracking position).

    The connector alone reads ``frames``; the sync stores and returns the baseline as is.
    ``fingerprint`` names what the frames were read for (scope and reads): a baseline with
    another fingerprint is not folded into but replaced by a full pull.
    """

    cursor: str
    frames: Mapping[str, pl.DataFrame]
    fingerprint: str
    #: When the last full pull behind these frames was taken (a full pull every N days).
    full_at: datetime


@dataclass
class Extraction:
    """Canonical tables of one source, the verdict on their health, and what they cost.

    ``stats`` is the JSON-ready summary a run records (requests, retries, per-entity pages and
    records, seconds); ``requests`` the typed request counters behind it. ``health`` is the
    verdict the extract passed: a connector raises
    :class:`~rostersync.connectors.health.SourceHealthError` (carrying the failed verdict)
    rather than return an extraction whose health is not ok.
    """

    roster: Roster
    stats: dict[str, Any] = field(default_factory=dict)
    health: SourceHealth = field(default_factory=SourceHealth)
    requests: RequestStats = field(default_factory=RequestStats)
    #: For an incremental connector: what to fold the next extraction into (None otherwise).
    baseline: Baseline | None = None


#: The former name of :class:`Extraction`.
ExtractResult = Extraction


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do beyond a plain extract, declared on its class."""

    #: Every extract is the complete set of records of its scope, so absence means deletion
    #: (see :mod:`rostersync.changes.diff`). A connector that may send partial data says False;
    #: then only ``bulk_upload`` deletes absent records.
    complete_snapshot: bool = False
    #: It can extract only what changed since a previous extract.
    incremental: bool = False
    #: It can write records back to the source (two-way sync).
    write_back: bool = False


class Connector(Protocol):
    """What rostersync asks of a source app's connector (ours or a third party's).

    A connector class is registered under the entry-point group ``rostersync.connectors`` and
    built for a configured source with :meth:`from_source`. Its run-time contract is checked by
    :mod:`rostersync.connectors.testing`, a test class any connector's tests can inherit.
    """

    #: The ``app`` name a district configuration uses for this source.
    app: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    #: ``capabilities.complete_snapshot``, kept as a class attribute for older readers.
    complete_snapshot: ClassVar[bool]

    @classmethod
    def from_source(
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        """A connector for a configured source and the HTTP client it uses (the caller closes
        the client; it is ``client`` when one was given)."""
        ...

    async def test_connection(self) -> ConnectionReport:
        """Check everything a sync needs; say exactly what is wrong, or what was found."""
        ...

    async def list_schools(self) -> list[SchoolInfo]:
        """Every school of the source, for the schools-mapping step."""
        ...

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> Extraction:
        """Canonical tables of the given schools (None = all), with their health and cost.

        Raises a :class:`~rostersync.errors.SourceError` when the source cannot be read, and
        :class:`~rostersync.connectors.health.SourceHealthError` when it sent less than it
        says it holds: short tables are never returned as if they were whole.
        """
        ...


#: What :meth:`Connector` members the registry checks a loaded class for.
REQUIRED_MEMBERS = (
    "app",
    "capabilities",
    "from_source",
    "test_connection",
    "list_schools",
    "extract",
)
