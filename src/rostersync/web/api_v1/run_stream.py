"""``/api/v1/districts/{district}/runs/{run_id}/stream``: a run's events as Server-Sent Events.

Each stored event is sent as an SSE ``run_event`` whose ``id`` is its cursor; the stream ends
with one ``end`` event carrying the run's settled status (held, succeeded, failed, rejected).
A client that reconnects with ``Last-Event-ID`` (or ``?after=``) gets only what it missed.
The stream ends once the run has settled, its owner has let go of the run's lock and its
decision event was sent.
The store is polled every :data:`POLL_SECONDS`, so an event reaches the client well within a
second of being emitted (measured by ``bench/manage_api.py``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from rostersync import manage
from rostersync.manage.run_events import PAGE, events_after
from rostersync.store import Store
from rostersync.web.api_v1._core import MAX_ID, ApiRoute, CallerDep, RunId, district_for, store_of
from rostersync.web.api_v1.models import RunEventOut

router = APIRouter(route_class=ApiRoute, tags=["runs"])
#: How often the stream looks for new events.
POLL_SECONDS = 0.2
#: A settled run without a decision event (its process died) ends the stream after this.
QUIET_SECONDS = 2.0
#: A comment line this often keeps proxies from closing a quiet stream.
PING_SECONDS = 15
STREAM_DOC = {
    200: {
        "description": "`text/event-stream`: `run_event` events (data: a run event as JSON, "
        'id: its cursor), then one `end` event (data: `{"status": …}`)',
        "content": {
            "text/event-stream": {
                "schema": {
                    "description": "one event of the stream",
                    "type": "object",
                    "properties": {
                        "event": {"type": "string", "enum": ["run_event", "end"]},
                        "data": {"type": "string", "description": "JSON"},
                        "id": {"type": "string"},
                    },
                    "required": ["event", "data"],
                }
            }
        },
    }
}


async def _follow(store: Store, run_id: int, after: int) -> AsyncIterator[ServerSentEvent]:
    cursor = after
    decided = False
    settled_at: float | None = None
    while True:
        page = await run_in_threadpool(events_after, store, run_id, cursor)
        for stored in page.events:
            cursor = stored.id
            decided = decided or stored.event["kind"] == "decision"
            # the very JSON of GET …/events (RunEventOut), so a client parses one shape
            data = RunEventOut.model_validate(stored.event).model_dump_json()
            yield ServerSentEvent(data=data, event="run_event", id=str(stored.id))
        if page.settled and not page.owner_active:
            now = time.monotonic()
            settled_at = settled_at if settled_at is not None else now
            # A run writes its decision after its status settles; one that died before it
            # (recovered as failed) has none: it ends after a quiet while.
            if decided or now - settled_at >= QUIET_SECONDS:
                yield ServerSentEvent(data=json.dumps({"status": page.status}), event="end")
                return
        if len(page.events) < PAGE:
            await asyncio.sleep(POLL_SECONDS)


@router.get(
    "/districts/{district}/runs/{run_id}/stream",
    response_class=EventSourceResponse,
    responses=STREAM_DOC,  # type: ignore[arg-type]
)
def stream_run_events(
    request: Request,
    caller: CallerDep,
    district: str,
    run_id: RunId,
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="send only events after this cursor")
    ] = 0,
    last_event_id: Annotated[
        str | None, Header(description="set by a reconnecting EventSource: resume after it")
    ] = None,
) -> Any:
    """Follow a run live: its events as they are emitted, until the run settles."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    manage.show_run(store, run_id, d.id)
    if last_event_id is not None and last_event_id.strip().isdigit():
        after = max(after, min(int(last_event_id), MAX_ID))
    return EventSourceResponse(_follow(store, run_id, after), ping=PING_SECONDS)
