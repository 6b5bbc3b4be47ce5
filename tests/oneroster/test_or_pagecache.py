"""The per-version ID cache computes each collection once, however many threads ask at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest

from rostersync.export.oneroster.pagecache import VersionCache


def test_concurrent_misses_compute_once() -> None:
    cache = VersionCache()
    calls = 0
    started = threading.Event()
    release = threading.Event()

    def compute() -> pl.Series:
        nonlocal calls
        calls += 1
        started.set()
        release.wait(5)
        return pl.Series("sourcedId", ["a", "b"])

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.get_or_compute, "users", compute) for _ in range(8)]
        assert started.wait(5)
        release.set()
        results = [f.result(10) for f in futures]
    assert calls == 1
    assert all(r.to_list() == ["a", "b"] for r in results)


def test_a_failed_computation_is_taken_over_by_a_waiting_thread() -> None:
    cache = VersionCache()
    attempts: list[str] = []
    first_running = threading.Event()
    waiter_queued = threading.Event()

    def compute() -> pl.Series:
        attempts.append(threading.current_thread().name)
        if len(attempts) == 1:
            first_running.set()
            waiter_queued.wait(5)
            raise RuntimeError("the database went away")
        return pl.Series("sourcedId", ["x"])

    def failing() -> None:
        with pytest.raises(RuntimeError, match="went away"):
            cache.get_or_compute("k", compute)

    owner = threading.Thread(target=failing, name="owner")
    owner.start()
    assert first_running.wait(5)
    result: list[pl.Series] = []
    waiter = threading.Thread(
        target=lambda: result.append(cache.get_or_compute("k", compute)), name="waiter"
    )
    waiter.start()
    waiter_queued.set()
    owner.join(10)
    waiter.join(10)
    assert attempts == ["owner", "waiter"]
    assert result[0].to_list() == ["x"]
    assert cache.get("k") is not None
