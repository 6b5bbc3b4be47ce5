"""Reading a whole OneRoster collection: ``limit``/``offset`` pages fetched concurrently when the
provider announces its total (``X-Total-Count``), else ``Link: rel="next"`` followed in order.

Every page is entered in the health ledger against the announced total, so a provider that
answers short (an empty page inside the announced range, fewer records than it counted) fails
the extraction instead of reading as deletions.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

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


def records_of(page: Page, key: str, url: str, source: str) -> list[dict[str, Any]]:
    """The page's records under the envelope ``key``; a clear error when the shape is wrong."""
    found = page.body.get(key)
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        keys = ", ".join(sorted(page.body)[:5]) or "none"
        raise SourceDataError(
            f"The OneRoster provider's {url} has no list of objects under {key!r} (keys: {keys})",
            source=source,
            hint="check connector.version: 1.1 and 1.2 providers serve different paths",
        )
    return found


async def fetch_collection(
    session: Session,
    entity: str,
    key: str,
    ledger: HealthLedger,
    *,
    extra: dict[str, str] | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> list[dict[str, Any]]:
    """Every record of ``/<entity>`` (with ``extra`` query parameters, e.g. a filter)."""
    url = session.url(f"/{entity}")
    size = session.options.page_size
    params = {"limit": str(size), "offset": "0", **(extra or {})}
    first = await session.get(url, params)
    out = records_of(first, key, url, session.source)
    ledger.announced(entity, SCOPE, first.total)
    ledger.page(entity, SCOPE, len(out), None)
    done = 1

    def tell(records: int, total_pages: int | None, finished: bool = False) -> None:
        if progress is not None:
            progress(ProgressEvent(entity, records, done, total_pages, finished))

    if first.total is not None and first.total > len(out) and out:
        # A provider serving fewer than asked per page caps the limit: step by what it serves.
        step = min(size, len(out))
        pages = math.ceil(first.total / step)
        tell(len(out), pages)

        async def one(offset: int) -> list[dict[str, Any]]:
            nonlocal done
            page = await session.get(url, {**params, "limit": str(step), "offset": str(offset)})
            found = records_of(page, key, url, session.source)
            ledger.announced(entity, SCOPE, page.total)
            ledger.page(entity, SCOPE, len(found), pages)
            done += 1
            tell(len(found), pages)
            return found

        for chunk in await gather_all(one(o) for o in range(step, first.total, step)):
            out.extend(chunk)
    elif first.total is None:
        page, seen = first, {url}
        while page.next_url and page.next_url not in seen and len(seen) < MAX_LINKED_PAGES:
            link = page.next_url
            seen.add(link)
            page = await session.get(link)
            found = records_of(page, key, link, session.source)
            ledger.page(entity, SCOPE, len(found), None)
            done += 1
            tell(len(found), None)
            if not found:
                break
            out.extend(found)
    tell(0, done, finished=True)
    return out
