"""The scheduler's own tables: run locks, per-source schedule state, scheduler heartbeats.

They live in the store's database (created by the store migration ``0004_schedule``) but are
declared here, on their own ``MetaData``, because only the schedule package reads or writes
them. ``district_id`` columns hold ``districts.id``; there is deliberately no foreign key, so
these short-lived bookkeeping rows never block deleting a district (stale ones are ignored).

- ``run_locks``: at most one row per district, the run holding that district's lock. A district's
  runs never overlap, whatever the source: two sources of one district publish into the same
  roster. A row whose ``expires_at`` has passed belongs to a dead worker and may be reclaimed.
- ``schedule_state``: per (district, source), the last slot it was dispatched for, so a restart
  neither repeats a slot nor runs every missed one.
- ``scheduler_heartbeats``: when each scheduler loop last ticked, so a stopped scheduler is
  visible (`rostersync schedule show`) rather than silent.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

run_locks = sa.Table(
    "run_locks",
    metadata,
    sa.Column("district_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

schedule_state = sa.Table(
    "schedule_state",
    metadata,
    sa.Column("district_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("last_slot", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_kind", sa.Text, nullable=True),
    sa.Column("last_trigger", sa.Text, nullable=True),
    sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
    # which scheduler tick dispatched the last slot (tells claims of two schedulers apart)
    sa.Column("claimed_by", sa.Text, nullable=True),
    sa.Column("expired_notice_at", sa.DateTime(timezone=True), nullable=True),
)

scheduler_heartbeats = sa.Table(
    "scheduler_heartbeats",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sources", sa.Integer, nullable=False, server_default="0"),
)
