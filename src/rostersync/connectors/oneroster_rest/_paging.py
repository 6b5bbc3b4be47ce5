"""Reading a whole OneRoster collection: ``limit``/``offset`` pages fetched concurrently when the
provider announces its total (``X-Total-Count``), else ``Link: rel="next"`` followed in order.

Every page is entered in the health ledger against the announced total, so a provider that
answers short (an empty page inside the announced range, fewer records than it counted) fails
the extraction instead of reading as deletions.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import polars as pl

from rostersync.connectors.base import ProgressEvent
from rostersync.connectors.health import HealthLedger
from rostersync.connectors.oneroster_rest._http import Page, Session
from rostersync.errors import SourceDataError

T = TypeVar("T")
#: Most pages followed through ``Link`` headers (a provider linking in a loop stops here).
MAX_LINKED_PAGES = 1_000_000
SCOPE = "collection"


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Every result, in order; on the first failure the others are cancelled and awaited (no
    request is left running when the extraction fails)."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def records_of(page: Page, key: str) -> pl.DataFrame:
    """The page's records under the envelope ``key``, one row each, decoded by Polars; a clear
    error when the body is no JSON or the shape is wrong."""
    try:
        body = pl.read_json(io.BytesIO(page.content))
    except pl.exceptions.PolarsError as exc:
        records = page.body.get(key)  # valid JSON, then (else: not JSON)
        raise SourceDataError(
            f"The OneRoster provider's {page.url} sent records that cannot be read together"
            + _mixed(records),
            source=page.source,
            hint="a field must have one JSON type in every record (as OneRoster defines it)",
        ) from exc
    dtype = body.schema.get(key)
    if isinstance(dtype, pl.List) and dtype.inner == pl.Null:
        return pl.DataFrame()
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        keys = ", ".join(sorted(body.columns)[:5]) or "none"
        raise SourceDataError(
            f"The OneRoster provider's {page.url} has no list of objects under {key!r} "
            f"(keys: {keys})",
            source=page.source,
            hint="check connector.version: 1.1 and 1.2 providers serve different paths",
        )
    return body.select(key).explode(key).unnest(key)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text"


def _mixed(records: object) -> str:
    """``: field F is … in record R and … before`` for the first field of two JSON types."""
    if not isinstance(records, list):
        return ""
    seen: dict[str, str] = {}
    for record in records:
        if not isinstance(record, dict):
            return ": an item of the list is not an object"
        for field, value in record.items():
            if value is None:
                continue
            kind = _kind(value)
            before = seen.setdefault(field, kind)
            if before != kind:
                return (
                    f": field {field} is {kind} in record {record.get('sourcedId')!r}, "
                    f"{before} in records before it"
                )
    return ""


async def fetch_collection(
    session: Session,
    entity: str,
    key: str,
    ledger: HealthLedger,
    *,
    extra: dict[str, str] | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> list[pl.DataFrame]:
    """Every record of ``/<entity>`` (with ``extra`` query parameters, e.g. a filter), one
    frame per page (pages may differ in the fields they carry)."""
    url = session.url(f"/{entity}")
    size = session.options.page_size
    params = {"limit": str(size), "offset": "0", **(extra or {})}
    first = await session.get(url, params)
    head = records_of(first, key)
    out = [head]
    ledger.announced(entity, SCOPE, first.total)
    ledger.page(entity, SCOPE, head.height, None)
    done = 1

    def tell(records: int, total_pages: int | None, finished: bool = False) -> None:
        if progress is not None:
            progress(ProgressEvent(entity, records, done, total_pages, finished))

    if first.total is not None and first.total > head.height and head.height:
        # A provider serving fewer than asked per page caps the limit: step by what it serves.
        step = min(size, head.height)
        pages = math.ceil(first.total / step)
        tell(head.height, pages)

        async def one(offset: int) -> pl.DataFrame:
            nonlocal done
            page = await session.get(url, {**params, "limit": str(step), "offset": str(offset)})
            found = records_of(page, key)
            ledger.announced(entity, SCOPE, page.total)
            ledger.page(entity, SCOPE, found.height, pages)
            done += 1
            tell(found.height, pages)
            return found

        out.extend(await gather_all(one(o) for o in range(step, first.total, step)))
    elif first.total is None:
        page, seen = first, {url}
        while page.next_url and page.next_url not in seen and len(seen) < MAX_LINKED_PAGES:
            link = page.next_url
            seen.add(link)
            page = await session.get(link)
            found = records_of(page, key)
            ledger.page(entity, SCOPE, found.height, None)
            done += 1
            tell(found.height, None)
            if not found.height:
                break
            out.append(found)
    tell(0, done, finished=True)
    return out
