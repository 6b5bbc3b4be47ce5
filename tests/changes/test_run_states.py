"""The run state machine: any sequence of events leaves a run in a legal state, every change of
status is one the table allows, and a kill at any point leaves it recoverable (settled by the
next start). On a real store; each write goes through the run ledger."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rostersync.liveness import hostname
from rostersync.store import Store, make_engine
from rostersync.sync import ledger
from rostersync.sync.recovery import recover_interrupted_runs
from rostersync.sync.states import SETTLED, TRANSITIONS, RunStatus, can_move

S = RunStatus
#: event → the status it asks for
EVENTS = {
    "start": S.RUNNING,
    "hold": S.HELD,
    "publish": S.PUBLISHING,
    "published": S.PUBLISHED,
    "fail": S.FAILED,
    "reject": S.REJECTED,
}
DEAD = f"{hostname()}:99999999:1"  # a pid above any pid_max: no such process on this host


@pytest.fixture(scope="module")
def one_store() -> Store:
    directory = tempfile.mkdtemp()
    store = Store(make_engine(f"sqlite:///{Path(directory) / 'states.db'}"))
    store.upgrade()
    return store


def test_the_table_names_only_known_states() -> None:
    assert set(TRANSITIONS) == set(RunStatus)
    assert not can_move("succeeded", "running")
    assert can_move("held", "publishing")
    assert not can_move("nonsense", "failed")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from([*EVENTS, "kill"]), max_size=10))
def test_any_sequence_of_events_leaves_a_legal_recoverable_run(
    one_store: Store, events: list[str]
) -> None:
    store = one_store
    districts = store.list_districts()
    district = districts[0].id if districts else store.create_district("Springfield").id
    run = store.create_run(district, trigger="manual", source="sis")
    status = S(store.get_run(run).status)
    assert status is S.QUEUED
    for event in events:
        if event == "kill":
            if status in (S.RUNNING, S.PUBLISHING):
                ledger.record(store, run, owner=DEAD)
            recover_interrupted_runs(store, district)
            new = S(store.get_run(run).status)
            assert new in SETTLED or new is S.QUEUED, (events, new)
        else:
            try:
                ledger.transition(store, run, EVENTS[event])
            except ledger.IllegalTransition:
                assert not can_move(status, EVENTS[event])
            new = S(store.get_run(run).status)
        assert new == status or can_move(status, new), (events, status, new)
        status = new
