"""Per-version query cache of the provider: the ordered sourcedIds behind every collection.

A published roster version never changes, so anything computed from one version's rows stays
true until the next publish. The provider reads the district's version number in the same
transaction as the rows and keys the cache on it, so a publish makes old entries unreachable
(they age out of the LRU) and nothing ever needs invalidating.

For each collection a request can ask for (resource, path narrowing, client sharing rules and
filter: see :class:`~rostersync.export.oneroster.query.Query`), the cache holds the matching
``sourcedId`` values in the store's order. That one array answers ``X-Total-Count`` (its
length) and turns any ``offset`` into a keyset range (``sourcedId BETWEEN ids[offset] AND
ids[offset + limit - 1]``), so offset 900,000 costs what offset 0 does and a page is one
index range scan.

Entries are weighed by their number of IDs; the cache evicts the least recently used entries
once the total passes its budget (a million IDs take a few tens of MB as a Polars series).

:class:`RowCache` keeps serialized rows of those versions, so popular pages skip the database
and the serializer altogether.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

import polars as pl

#: Default budget of the cache, in sourcedIds held (about 3 mega districts' users).
DEFAULT_BUDGET = 3_000_000
#: Keyset page statements kept (one per collection, field selection and limit).
MAX_STATEMENTS = 2048
#: How long a thread waits for another's computation before looking again (it loops).
FLIGHT_WAIT_SECONDS = 1.0
S = TypeVar("S")


class VersionCache:
    """A thread-safe LRU of ordered ID arrays, each computed from one roster version."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self._items: OrderedDict[Hashable, pl.Series] = OrderedDict()
        self._statements: dict[Hashable, object] = {}
        self._flights: dict[Hashable, threading.Event] = {}
        self._budget = budget
        self._weight = 0
        self._lock = threading.Lock()

    def statement(self, key: Hashable, build: Callable[[], S]) -> S:
        """A prepared SQLAlchemy statement for ``key`` (which names its version), built once."""
        with self._lock:
            found = self._statements.get(key)
        if found is None:
            found = build()
            with self._lock:
                if len(self._statements) >= MAX_STATEMENTS:
                    self._statements.clear()
                self._statements[key] = found
        return cast(S, found)

    def get(self, key: Hashable) -> pl.Series | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: pl.Series) -> None:
        self.get_or_compute(key, lambda: value)

    def get_or_compute(self, key: Hashable, compute: Callable[[], pl.Series]) -> pl.Series:
        """The entry of ``key``, computed by one thread while the others asking wait for it.

        A big collection's IDs take the database about a second to read; right after a
        publish (or a restart) every worker thread asks for them at once, and letting each
        one read them made a herd of identical full scans that starved every other request.
        If the computing thread fails, a waiting one takes over.
        """
        while True:
            with self._lock:
                found = self._items.get(key)
                if found is not None:
                    self._items.move_to_end(key)
                    return found
                flight = self._flights.get(key)
                owner = flight is None
                if flight is None:
                    flight = self._flights[key] = threading.Event()
            if not owner:
                flight.wait(FLIGHT_WAIT_SECONDS)
                continue
            try:
                value = compute()
                with self._lock:
                    if key not in self._items:
                        self._items[key] = value
                        self._weight += max(1, value.len())
                    while self._weight > self._budget and len(self._items) > 1:
                        _, old = self._items.popitem(last=False)
                        self._weight -= max(1, old.len())
                return value
            finally:
                with self._lock:
                    del self._flights[key]
                flight.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._statements.clear()
            self._weight = 0


#: Default number of serialized rows a provider process keeps (a few hundred bytes each).
DEFAULT_ROWS = 200_000


class RowCache:
    """A thread-safe LRU of serialized JSON objects, keyed by (context, sourcedId).

    The context holds everything a row's JSON depends on besides its stored values: the roster
    version, the OneRoster version and base URL, the field selection and the client's sharing
    rules. A page whose rows are all here is answered without reading or serializing a row.
    """

    def __init__(self, size: int = DEFAULT_ROWS) -> None:
        self._items: OrderedDict[tuple[Hashable, str], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def has_all(self, context: Hashable, ids: list[str]) -> bool:
        items = self._items
        return all((context, i) in items for i in ids)

    def get_all(self, context: Hashable, ids: list[str]) -> list[bytes] | None:
        """The rows of ``ids`` in order, or ``None`` if any has been evicted meanwhile."""
        with self._lock:
            out = []
            for i in ids:
                found = self._items.get((context, i))
                if found is None:
                    return None
                self._items.move_to_end((context, i))
                out.append(found)
            return out

    def put_all(self, context: Hashable, rows: list[tuple[str, bytes]]) -> None:
        with self._lock:
            for sid, data in rows:
                self._items[(context, sid)] = data
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
