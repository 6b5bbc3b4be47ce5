"""Helpers: sync a district from the simulator (the real path), count every table's rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from rostersync.config import validate_config
from rostersync.settings import Settings
from rostersync.simulators.threaded import serve_in_thread as serve  # noqa: F401 (the tests use it)
from rostersync.store import Store
from rostersync.sync import sync_config
from support.configs import powerschool_config

PARTITION = re.compile(r"^roster_\w+_d\d+$")


def tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def config_body(url: str, monkeypatch: pytest.MonkeyPatch, district: str) -> dict[str, Any]:
    return powerschool_config(url, monkeypatch, district=district, attribute_mapping=None)


def sync(store: Store, settings: Settings, body: dict[str, Any]) -> int:
    """One sync of ``body``; the district's id."""
    outcome = sync_config(store, validate_config(body, "test configuration"), settings)
    assert outcome.status == "succeeded", outcome
    return store.get_district(body["district"]).id


def counts(store: Store, district_id: int) -> dict[str, int]:
    """Rows per table that belong to the district (by district_id, or by one of its runs);
    ``*total`` entries count whole tables."""
    out: dict[str, int] = {}
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        found = {
            name: sa.table(name, *(sa.column(c["name"]) for c in inspector.get_columns(name)))
            for name in inspector.get_table_names()
        }
        runs = found["runs"]
        run_ids = sa.select(runs.c.id).where(runs.c.district_id == district_id)
        for name, table in sorted(found.items()):
            if PARTITION.match(name):
                continue  # a PostgreSQL partition: its rows are counted in the roster table
            total = sa.select(sa.func.count()).select_from(table)
            out[f"{name}*total"] = int(conn.execute(total).scalar_one())
            if "district_id" in table.c:
                cond = table.c.district_id == district_id
            elif "run_id" in table.c:
                cond = table.c.run_id.in_(run_ids)
            else:
                continue
            out[name] = int(conn.execute(total.where(cond)).scalar_one())
    return out
