"""API clients in the store: a repeated name is a clear error, and creating a client while
another writer (a publish) holds a SQLite store waits its turn instead of failing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.store import Store


def test_a_repeated_client_name_is_a_clear_error(sqlite_store: Store) -> None:
    district = sqlite_store.create_district("Springfield")
    clients = ApiClients(sqlite_store.engine, "k" * 32)
    clients.create(district.id, "LMS", ["roster.readonly"], SharingRules.everything())
    with pytest.raises(ConfigurationError, match="already has an API client named 'LMS'"):
        clients.create(district.id, "LMS", ["roster.readonly"], SharingRules.everything())
    other = sqlite_store.create_district("Shelbyville")
    clients.create(other.id, "LMS", ["roster.readonly"], SharingRules.everything())
    assert [c.name for c in clients.list(district.id)] == ["LMS"]


def test_creating_a_client_waits_for_a_writer_holding_the_store(
    sqlite_store: Store, store_path: Path
) -> None:
    district = sqlite_store.create_district("Springfield")
    clients = ApiClients(sqlite_store.engine, "k" * 32)
    clients.list(district.id)  # the pool's connection is open before the writer starts
    writer = sqlite3.connect(store_path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # what a publish holds while it writes
    release = threading.Timer(0.5, writer.execute, ("COMMIT",))
    release.start()
    try:
        issued = clients.create(district.id, "LMS", ["roster.readonly"], SharingRules.everything())
    finally:
        release.join()
        writer.close()
    assert [c.client_id for c in clients.list(district.id)] == [issued.client.client_id]
