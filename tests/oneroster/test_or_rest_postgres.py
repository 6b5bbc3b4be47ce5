"""The provider on PostgreSQL (when ROSTERSYNC_TEST_POSTGRES_URL is set): every endpoint of both
versions, typed filters, deep paging and sharing, in a throwaway schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from or_provider import (
    PG_URL,
    V11,
    V12,
    Provider,
    postgres_schema,
    start_provider,
    users_query,
)
from test_or_rest_deep_paging import big_roster
from test_or_rest_endpoints import COLLECTIONS, EXPECTED, fill

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs ROSTERSYNC_TEST_POSTGRES_URL"),
]


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with postgres_schema() as url:
        yield from start_provider(tmp_path_factory.mktemp("or_pg") / "var", url)


@pytest.mark.parametrize("base", [V12, V11])
def test_every_collection(pg: Provider, base: str) -> None:
    for endpoint in COLLECTIONS:
        resp = pg.get(base + fill(endpoint.path))
        assert resp.status_code == 200, (endpoint.path, resp.text)
        (objects,) = resp.json().values()
        assert {o["sourcedId"] for o in objects} == EXPECTED[endpoint.path], endpoint.path


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("familyName~'SMITH'", {"u-g1", "u-s1", "u-s3"}),
        ("enabledUser='false'", {"u-g1", "u-s3"}),
        ("grades='09'", {"u-s1"}),
        # The store stamps records with the publish time, in whole milliseconds.
        (
            "dateLastModified>='{published}'",
            {"u-a1", "u-g1", "u-s1", "u-s2", "u-s3", "u-t1", "u-t2"},
        ),
        ("dateLastModified>'{published}'", set()),
        (
            "dateLastModified>'{just_before}'",
            {"u-a1", "u-g1", "u-s1", "u-s2", "u-s3", "u-t1", "u-t2"},
        ),
        ("familyName='O''Brien' OR givenName='Tom'", {"u-s2", "u-t2"}),
    ],
)
def test_typed_filters(pg: Provider, flt: str, expected: set[str]) -> None:
    published = pg.store.get_version(pg.district_id).created_at
    assert published.microsecond % 1000 == 0

    def shown(value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

    flt = flt.format(
        published=shown(published), just_before=shown(published - timedelta(milliseconds=1))
    )
    resp = pg.get(f"{V12}/users", filter=flt)
    assert resp.status_code == 200, resp.text
    assert {u["sourcedId"] for u in resp.json()["users"]} == expected


def test_dates_and_sharing(pg: Provider) -> None:
    session = pg.get(f"{V12}/academicSessions", filter="startDate>'2025-12-31'").json()
    assert [s["sourcedId"] for s in session["academicSessions"]] == ["as-t2"]
    users = pg.get(f"{V12}/users", client="lms").json()["users"]
    assert {u["sourcedId"] for u in users} == {"u-s1", "u-s2", "u-s3", "u-t1", "u-t2"}
    assert all("email" not in u for u in users)
    classes = pg.get(f"{V12}/classes", client="north").json()["classes"]
    assert {c["sourcedId"] for c in classes} == {"k-alg1", "k-bio1"}


def test_deep_paging(pg: Provider) -> None:
    roster = big_roster(2300)
    pg.store.publish(pg.district_id, roster)
    ids = sorted(roster["users"]["sourcedId"].to_list())
    for offset in (0, 1000, 1999, 2250):
        resp = pg.get(f"{V12}/users", limit="50", offset=str(offset))
        assert resp.headers["X-Total-Count"] == str(len(ids))
        assert [u["sourcedId"] for u in resp.json()["users"]] == ids[offset : offset + 50]


def test_publish_refreshes_planner_statistics_and_reads_have_a_timeout(pg: Provider) -> None:
    """Right after a bulk publish PostgreSQL must know the tables' sizes, or the provider's joins
    are planned as nested loops over whole tables; and no provider query may run unbounded."""
    import sqlalchemy as sa

    from rostersync.export.oneroster.query import QUERY_TIMEOUT_MS, begin_read, read_engine
    from rostersync.store.schema import partition_name

    with pg.store.engine.connect() as conn:
        analyzed = conn.execute(
            sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND last_analyze IS NOT NULL"
            )
        ).scalars()
        # Each district's rows are a partition of their own, analyzed as it is loaded.
        wanted = {partition_name(e, pg.district_id) for e in ("users", "enrollments", "classes")}
        assert wanted <= set(analyzed)
    engine = read_engine(pg.store.engine)
    try:
        with engine.connect() as conn:
            begin_read(conn, pg.district_id)
            assert (
                conn.exec_driver_sql("SHOW statement_timeout").scalar()
                == f"{QUERY_TIMEOUT_MS // 1000}s"
            )
    finally:
        engine.dispose()


def test_autocommit_reads_notice_a_publish_after_the_version_read(pg: Provider) -> None:
    """The provider's PostgreSQL reads are single autocommit statements: a publish committed
    after the version was read must surface as VersionMoved, never as another version's rows."""
    from rostersync.export.oneroster.pagecache import VersionCache
    from rostersync.export.oneroster.query import ListParams, VersionMoved, begin_read, read_engine

    pg.store.publish(pg.district_id, big_roster(1400))
    engine = read_engine(pg.store.engine)
    cache = VersionCache()

    def page(version: int | None) -> int:
        query = users_query(pg.district_id, cache, version)
        with engine.connect() as conn:
            params = ListParams(10, 1200, None, False, None, None)
            # broad: the whole /users collection, tombstones of deleted users included
            return query.page(conn, params, key="u", broad=True).total

    try:
        with engine.connect() as conn:
            version = begin_read(conn, pg.district_id)
        assert page(version) > 1400
        pg.store.publish(pg.district_id, big_roster(1300))
        with pytest.raises(VersionMoved):
            page(version)
        resp = pg.get(f"{V12}/users", limit="10", offset="1200")
        assert resp.headers["X-Total-Count"] == str(page(version + 1 if version else None))
    finally:
        engine.dispose()
