"""Migration 0003 creates exactly the tables that changes/ and notify/ declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rostersync.notify.log import metadata as notify_metadata
from rostersync.store import Store
from rostersync.sync.tables import metadata as changes_metadata


def test_migration_matches_declared_tables(store: Store) -> None:
    for metadata in (changes_metadata, notify_metadata):
        ours = set(metadata.tables)

        def include(
            obj: object,
            name: str | None,
            type_: str,
            reflected: bool,
            other: object,
            ours: set[str] = ours,
        ) -> bool:
            table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
            return table in ours

        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include}
            )
            diffs = [d for d in compare_metadata(context, metadata) if d[0] != "remove_fk"]
            assert diffs == []
