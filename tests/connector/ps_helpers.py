"""Helpers of the connector tests: a connector wired to a simulator, fast retry options."""

from __future__ import annotations

from typing import Any

import httpx

from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector, PowerSchoolOptions
from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

#: Fast retries for tests: the same policy shape, shorter waits.
FAST = PowerSchoolOptions(
    concurrency=6, backoff_base_seconds=0.01, backoff_max_seconds=0.2, max_retries=8
)


def make_connector(
    url: str,
    client: httpx.AsyncClient,
    *,
    plan: ExtractPlan | None = None,
    options: PowerSchoolOptions = FAST,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
) -> PowerSchoolConnector:
    return PowerSchoolConnector.create(
        client, url, client_id, client_secret, plan=plan, options=options
    )


async def extract(url: str, plan: ExtractPlan | None = None, **kw: Any) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        conn = make_connector(url, client, plan=plan, **kw)
        return await conn.extract(), conn
