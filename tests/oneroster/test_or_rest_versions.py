"""The provider serves the last accepted version: a publish in progress is invisible until it
commits, a publish that dies half-way changes nothing, and a committed one is served at once."""

from __future__ import annotations

import threading
from typing import Any

import polars as pl
import pytest
from or_provider import V12, Provider
from or_sample_roster import small_roster
from sqlalchemy import event

from rostersync.errors import FatalError
from rostersync.store import Store, make_engine


def given_names(provider: Provider) -> dict[str, str]:
    resp = provider.get(f"{V12}/users")
    assert resp.status_code == 200
    return {u["sourcedId"]: u["givenName"] for u in resp.json()["users"]}


def renamed() -> dict[str, pl.DataFrame]:
    roster = small_roster()
    roster["users"] = roster["users"].with_columns(
        pl.when(pl.col("sourcedId") == "u-s2")
        .then(pl.lit("Robert"))
        .otherwise(pl.col("givenName"))
        .alias("givenName")
    )
    return roster


def test_failed_publish_leaves_the_served_version(provider: Provider) -> None:
    with pytest.raises(FatalError):
        provider.store.publish(provider.district_id, renamed(), _fail_after_batches=1)
    assert given_names(provider)["u-s2"] == "Bob"


def test_publish_in_progress_is_invisible_until_commit(provider: Provider) -> None:
    """Hold a real publish inside its transaction (a SQLite trace hook pauses it right before
    it inserts the new users rows, after it has closed the old ones) and read meanwhile."""
    engine = make_engine(provider.settings.resolved_database_url)
    paused, resume = threading.Event(), threading.Event()

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn: Any, _: Any) -> None:
        def on_statement(sql: str) -> None:
            inserting_users = sql.lstrip().upper().startswith("INSERT") and "roster_users" in sql
            if inserting_users and not paused.is_set():
                paused.set()
                resume.wait(30)

        dbapi_conn.set_trace_callback(on_statement)

    publisher = Store(engine)
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            publisher.publish(provider.district_id, renamed())
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        assert paused.wait(30), "the publish never reached the users rows"
        during = given_names(provider)
        assert during["u-s2"] == "Bob"
        assert len(during) == 7
    finally:
        resume.set()
        thread.join(30)
        engine.dispose()
    assert not errors, errors
    assert given_names(provider)["u-s2"] == "Robert"
