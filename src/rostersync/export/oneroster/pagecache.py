"""Per-version query cache of the provider: total counts and deep-offset anchors.

A published roster version never changes, so anything computed from one version's rows stays
true until the next publish. The provider reads the district's version number in the same
transaction as the rows and keys the cache on it, so a publish makes old entries unreachable
(they age out of the LRU) and nothing ever needs invalidating.

- **Counts**: ``X-Total-Count`` of a query (its SQL and bound parameters) in a version.
- **Anchors**: for the default order (by ``sourcedId``), the ``sourcedId`` at every
  :data:`ANCHOR_STEP`-th position. A page at offset ``N`` then starts from the anchor at or
  before ``N`` (an index range scan) and skips fewer than ``ANCHOR_STEP`` rows, so offset 900,000
  costs about what offset 0 does instead of scanning 900,000 index entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa

ANCHOR_STEP = 1000
T = TypeVar("T")


def statement_key(conn: sa.Connection, stmt: sa.ClauseElement) -> tuple[str, str]:
    """A hashable identity of a statement: its SQL text and bound parameter values."""
    compiled = stmt.compile(dialect=conn.dialect)
    return str(compiled), repr(sorted(compiled.params.items()))


class VersionCache:
    """A small thread-safe LRU of values computed from one roster version."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
