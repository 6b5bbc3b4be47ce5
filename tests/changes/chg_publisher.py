"""Child process of the kill -9 test: runs the approval flow on a big candidate roster.

Prints ``claimed`` the moment the publish transaction has claimed its version number (the first
statement of the one publish transaction); on SQLite also ``writing`` once a first batch of
roster rows is in, and it then waits there; ``published`` when it is done — unless killed.
Usage: python chg_publisher.py DATABASE_URL DISTRICT_ID RUN_ID USERS [approve]
(``approve``: approve the held run RUN_ID instead of running the flow on a new candidate.)
"""

from __future__ import annotations

import sqlite3
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parent))

from changes_data import make_roster

from rostersync.store import Store, make_engine
from rostersync.sync.approval import ChangeOptions, approve, process_candidate


def main() -> None:
    url, district, run_id, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    engine = make_engine(url)

    @event.listens_for(engine, "after_cursor_execute")
    def _claimed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ROSTER_VERSIONS"):
            print("claimed", flush=True)

    # SQLite: hold the publish still once it has copied a first batch of roster rows, so the
    # parent's kill -9 lands mid-write whatever the machine's speed.
    @event.listens_for(engine, "connect")
    def _pause_mid_write(dbapi_conn: Any, record: Any) -> None:
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        batches = 0

        def trace(statement: str) -> None:
            nonlocal batches
            target = statement.split("(")[0]
            if (
                target.startswith("INSERT INTO")
                and "roster_" in target
                and "versions" not in target
            ):
                batches += 1
                if batches == 2:
                    print("writing", flush=True)
                    time.sleep(120)

        dbapi_conn.set_trace_callback(trace)

    store = Store(engine)
    if sys.argv[5:] == ["approve"]:
        version = approve(store, run_id, actor="cli:test")
        print("published", version.version, flush=True)
        return
    roster = make_roster(users)
    outcome = process_candidate(
        store, district, run_id, roster, ChangeOptions(bulk_upload=True), today=date(2026, 10, 5)
    )
    print("published", outcome.status, flush=True)


if __name__ == "__main__":
    main()
