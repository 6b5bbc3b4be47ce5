"""Pagination strategies of the PowerSchool API, each a small class tested on its own.

- :class:`V1Pages` — ``/ws/v1`` collections: ``page``/``pagesize``, total from ``…/count``
  (``{"resource": {"count": N}}``), records double-wrapped under plural/singular keys.
- :class:`TablePages` — ``/ws/schema/table/{t}``: same parameters, total from ``…/count``
  (``{"count": N}``), every value a string.
- :class:`PowerQueryPages` — ``POST /ws/schema/query/{name}`` with a JSON body; total from
  ``POST …/count``.

:func:`fetch_pages` drives any of them: it asks for the total, then fetches every page at once
(the session bounds concurrency), converting each page as it arrives so raw JSON never piles up.
When the total is unknown it walks pages until a short or empty one; when the last counted page
comes back full (rows were added meanwhile) it keeps going the same way.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rostersync.connectors.powerschool._http import ApiSession
from rostersync.connectors.powerschool._json import (
    JSONDict,
    as_dict,
    table_records,
    text,
    unwrap_collection,
)

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    method: str
    path: str
    params: dict[str, Any]
    body: dict[str, Any] | None = None


class Paginator(Protocol):
    """How one kind of collection is counted, paged and unwrapped."""

    @property
    def size_key(self) -> str:
        """The ``/ws/v1/metadata`` key holding the plugin's maximum page size for this one."""
        ...

    def count_request(self) -> PageRequest | None: ...

    def parse_count(self, payload: Any) -> int | None: ...

    def page_request(self, page: int, page_size: int) -> PageRequest: ...

    def records(self, payload: Any) -> list[JSONDict]: ...


def _count_value(value: Any) -> int | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class V1Pages:
    """A ``/ws/v1`` collection such as ``/ws/v1/school/7/student`` (plural ``students``)."""

    path: str
    plural: str
    singular: str
    size_key: str
    params: dict[str, Any] = field(default_factory=dict)

    def count_request(self) -> PageRequest:
        return PageRequest("GET", self.path + "/count", _count_params(self.params))

    def parse_count(self, payload: Any) -> int | None:
        body = as_dict(payload)
        inner = as_dict(body.get("resource"))
        return _count_value(inner.get("count", body.get("count")))

    def page_request(self, page: int, page_size: int) -> PageRequest:
        return PageRequest("GET", self.path, {**self.params, "page": page, "pagesize": page_size})

    def records(self, payload: Any) -> list[JSONDict]:
        return unwrap_collection(payload, self.plural, self.singular)


def _count_params(params: dict[str, Any]) -> dict[str, Any]:
    # expansions/extensions/projection do not change a count; q does.
    return {k: v for k, v in params.items() if k == "q"}


@dataclass(frozen=True)
class TablePages:
    """A schema table read through ``/ws/schema/table/{table}`` with a column projection."""

    table: str
    projection: tuple[str, ...]
    q: str | None = None
    size_key: str = "schema_table_query_max_page_size"

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"projection": ",".join(self.projection)}
        if self.q:
            params["q"] = self.q
        return params

    def count_request(self) -> PageRequest:
        params = {"q": self.q} if self.q else {}
        return PageRequest("GET", f"/ws/schema/table/{self.table.lower()}/count", params)

    def parse_count(self, payload: Any) -> int | None:
        return _count_value(as_dict(payload).get("count"))

    def page_request(self, page: int, page_size: int) -> PageRequest:
        return PageRequest(
            "GET",
            f"/ws/schema/table/{self.table.lower()}",
            {**self._params(), "page": page, "pagesize": page_size},
        )

    def records(self, payload: Any) -> list[JSONDict]:
        return table_records(payload, self.table)


@dataclass(frozen=True)
class PowerQueryPages:
    """A named PowerQuery (``POST /ws/schema/query/{name}``) with its JSON arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    size_key: str = "schema_table_query_max_page_size"

    def count_request(self) -> PageRequest:
        return PageRequest("POST", f"/ws/schema/query/{self.name}/count", {}, dict(self.args))

    def parse_count(self, payload: Any) -> int | None:
        return _count_value(as_dict(payload).get("count"))

    def page_request(self, page: int, page_size: int) -> PageRequest:
        return PageRequest(
            "POST",
            f"/ws/schema/query/{self.name}",
            {"page": page, "pagesize": page_size},
            dict(self.args),
        )

    def records(self, payload: Any) -> list[JSONDict]:
        return table_records(payload)


async def _send(session: ApiSession, req: PageRequest) -> Any:
    return await session.request(req.method, req.path, params=req.params or None, json=req.body)


#: Called after every page: (records on this page, pages done, pages expected or None).
PageCallback = Callable[[int, int, int | None], None]


async def count_records(session: ApiSession, paginator: Paginator) -> int | None:
    """The collection's total as the API reports it (``None`` when it cannot say)."""
    req = paginator.count_request()
    if req is None:
        return None
    return paginator.parse_count(await _send(session, req))


async def fetch_pages(
    session: ApiSession,
    paginator: Paginator,
    page_size: int,
    convert: Callable[[list[JSONDict]], T],
    *,
    on_page: PageCallback | None = None,
    total: int | None = None,
    count: bool = True,
) -> list[T]:
    """Every page of ``paginator`` converted by ``convert``, in page order.

    ``total`` skips the count request when the caller already knows it; ``count=False`` skips
    it too and walks pages one by one (one request for a collection that fits a page).
    """
    if total is None and count:
        total = await count_records(session, paginator)
    results: list[T] = []
    done = 0

    async def one(page: int, expected: int | None) -> tuple[T, int]:
        nonlocal done
        payload = await _send(session, paginator.page_request(page, page_size))
        recs = paginator.records(payload)
        converted = convert(recs)
        done += 1
        if on_page is not None:
            on_page(len(recs), done, expected)
        return converted, len(recs)

    next_page = 1
    if total is not None:
        pages = math.ceil(total / page_size) if total > 0 else 0
        if pages:
            outcome = await asyncio.gather(*(one(p, pages) for p in range(1, pages + 1)))
            results.extend(c for c, _ in outcome)
            last = outcome[-1][1]
            if last <= total - (pages - 1) * page_size or last < page_size:
                return results  # as counted (or fewer): nothing beyond the last page
        elif on_page is not None:
            on_page(0, 0, 0)
        if not pages:
            return results
        next_page = pages + 1
    # Unknown total, or more rows than counted: walk on until a short or empty page.
    while True:
        converted, n = await one(next_page, None)
        if n:
            results.append(converted)
        if n < page_size:
            return results
        next_page += 1
