"""A publish pinned to the version it was built from never undoes a version published since."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rostersync.errors import PublishConflict
from rostersync.model import Roster
from rostersync.store import District, Store


def test_publish_pinned_to_a_stale_base_is_refused(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    first = store.publish(district.id, make_roster(seed=1), expected_base=None)
    newer = store.publish(district.id, make_roster(seed=2), expected_base=first.version)
    with pytest.raises(PublishConflict, match="published after version 1"):
        store.publish(district.id, make_roster(seed=3), expected_base=first.version)
    # Nothing was written: the newer version still serves, unchanged.
    assert store.current_version(district.id) == newer.version
    assert [v.version for v in store.list_versions(district.id)] == [2, 1]


def test_first_publish_pinned_to_no_version_is_refused_once_one_exists(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    store.publish(district.id, make_roster(seed=1))
    with pytest.raises(PublishConflict):
        store.publish(district.id, make_roster(seed=2), expected_base=None)


def test_unpinned_publish_builds_on_whatever_is_current(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    store.publish(district.id, make_roster(seed=1))
    assert store.publish(district.id, make_roster(seed=2)).version == 2
