"""Delivery log: every notification attempt (channel, target, try, outcome), kept in the store.

The table lives in the store's database (migration ``0003_changes``) and is declared with the
store's other tables (``rostersync.store.schema.notification_deliveries``); notifications sit
beside the store, not above it, so the caller hands the table in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.clock import as_utc, utcnow


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event over one channel."""

    event: str
    channel: Literal["email", "webhook"]
    target: str
    attempt: int
    status: Literal["delivered", "retrying", "failed"]
    http_status: int | None = None
    error: str | None = None
    run_id: int | None = None
    district_id: int | None = None
    at: datetime = field(default_factory=utcnow)


class DeliveryLog:
    """Writes deliveries to the store's ``notification_deliveries`` table, and reads them back."""

    def __init__(self, engine: Engine, table: sa.Table) -> None:
        self.engine = engine
        self.table = table

    def record(self, delivery: Delivery) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                self.table.insert().values(
                    district_id=delivery.district_id,
                    run_id=delivery.run_id,
                    event=delivery.event,
                    channel=delivery.channel,
                    target=delivery.target,
                    attempt=delivery.attempt,
                    status=delivery.status,
                    http_status=delivery.http_status,
                    error=delivery.error,
                    at=delivery.at,
                )
            )

    def list(self, *, run_id: int | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries, oldest first (of one run when ``run_id`` is given)."""
        t = self.table
        stmt = sa.select(t).order_by(t.c.id).limit(limit)
        if run_id is not None:
            stmt = stmt.where(t.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [
                Delivery(
                    event=r.event,
                    channel=r.channel,
                    target=r.target,
                    attempt=r.attempt,
                    status=r.status,
                    http_status=r.http_status,
                    error=r.error,
                    run_id=r.run_id,
                    district_id=r.district_id,
                    at=as_utc(r.at),
                )
                for r in conn.execute(stmt)
            ]
