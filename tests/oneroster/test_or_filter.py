"""OneRoster filter grammar: parsing, errors, and compiled SQL over a throwaway SQLite table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from rostersync.export.oneroster.filtering import (
    Comparison,
    FilterError,
    Logical,
    Target,
    compile_filter,
    parse_filter,
    tokenize,
)

META = sa.MetaData()
PEOPLE = sa.Table(
    "people",
    META,
    sa.Column("sourcedId", sa.Text, primary_key=True),
    sa.Column("familyName", sa.Text),
    sa.Column("born", sa.Date),
    sa.Column("changed", sa.DateTime(timezone=True)),
    sa.Column("enabled", sa.Boolean),
    sa.Column("grades", sa.Text),  # JSON array
)
ROWS = [
    {
        "sourcedId": "p1",
        "familyName": "Smith",
        "born": dt.date(2010, 1, 5),
        "changed": dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC),
        "enabled": True,
        "grades": '["09","10"]',
    },
    {
        "sourcedId": "p2",
        "familyName": "O'Brien",
        "born": dt.date(2011, 6, 1),
        "changed": dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC),
        "enabled": False,
        "grades": '["10"]',
    },
    {
        "sourcedId": "p3",
        "familyName": "Smithers",
        "born": None,
        "changed": dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
        "enabled": True,
        "grades": None,
    },
    {
        "sourcedId": "p4",
        "familyName": "100%_sure",
        "born": dt.date(2012, 2, 2),
        "changed": None,
        "enabled": None,
        "grades": '["KG"]',
    },
]
KINDS = {
    "sourcedId": "text",
    "familyName": "text",
    "born": "date",
    "changed": "datetime",
    "enabled": "bool",
    "grades": "list",
}


def resolve(name: str) -> Target | None:
    alias = {"dotted.sourcedId": "sourcedId"}.get(name, name)
    if alias not in KINDS:
        return None
    return Target(PEOPLE.c[alias], KINDS[alias])  # type: ignore[arg-type]


@pytest.fixture
def conn() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    META.create_all(engine)
    with engine.begin() as c:
        c.execute(PEOPLE.insert(), ROWS)
    with engine.connect() as c:
        yield c
    engine.dispose()


def ids(conn: sa.Connection, text: str) -> list[str]:
    cond = compile_filter(parse_filter(text), resolve)
    stmt = sa.select(PEOPLE.c.sourcedId).where(cond).order_by(PEOPLE.c.sourcedId)
    return list(conn.scalars(stmt))


def test_parse_single_clause_and_doubled_quote() -> None:
    assert parse_filter("familyName='O''Brien'") == Comparison("familyName", "=", "O'Brien")


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter("a='1' OR b='2' AND c='3'")
    assert node == Logical(
        "OR",
        Comparison("a", "=", "1"),
        Logical("AND", Comparison("b", "=", "2"), Comparison("c", "=", "3")),
    )


def test_tokenizer_reads_two_char_operators_first() -> None:
    kinds = [t.text for t in tokenize("a>='x'") if t.kind == "op"]
    assert kinds == [">="]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("familyName='Smith'", ["p1"]),
        ("familyName!='Smith'", ["p2", "p3", "p4"]),
        ("familyName~'smith'", ["p1", "p3"]),
        ("familyName='O''Brien'", ["p2"]),
        ("familyName~'%_'", ["p4"]),
        ("born>'2011-01-01'", ["p2", "p4"]),
        ("born>='2011-06-01'", ["p2", "p4"]),
        ("born<'2011-06-01'", ["p1"]),
        ("born<='2011-06-01'", ["p1", "p2"]),
        ("changed>'2024-01-01T00:00:00Z'", ["p1", "p2"]),
        ("changed<'2024-01-01'", ["p3"]),
        ("enabled='true'", ["p1", "p3"]),
        ("enabled='false'", ["p2"]),
        ("grades='10'", ["p1", "p2"]),
        ("grades='1'", []),
        ("grades~'K'", ["p4"]),
        ("familyName='Smith' OR familyName='Smithers'", ["p1", "p3"]),
        ("familyName~'Smith' AND enabled='true'", ["p1", "p3"]),
        ("familyName~'Smith' AND born>'2010-06-01'", []),
        ("dotted.sourcedId='p2'", ["p2"]),
        ("sourcedId='p1' OR sourcedId='p2' OR sourcedId='p4'", ["p1", "p2", "p4"]),
    ],
)
def test_operators_select_the_right_rows(
    conn: sa.Connection, text: str, expected: list[str]
) -> None:
    assert ids(conn, text) == expected


def test_values_are_bound_parameters_never_sql_text() -> None:
    cond = compile_filter(parse_filter("familyName='x'' OR 1=1 --'"), resolve)
    sql = str(cond.compile(compile_kwargs={}))
    assert "OR 1=1" not in sql
    assert ":familyName_1" in sql or "?" in sql


def test_injection_attempt_matches_nothing(conn: sa.Connection) -> None:
    assert ids(conn, "familyName='x'' OR ''1''=''1'") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty filter"),
        ("familyName", "expected an operator"),
        ("familyName=", "expected a quoted value"),
        ("familyName='Smith", "unterminated"),
        ('familyName="Smith"', "single quotes"),
        ("familyName='a' AND", "expected a field name"),
        ("familyName='a' XOR x='b'", "expected AND, OR"),
        ("familyName='a' 'b'", "expected AND, OR"),
        ("='a'", "expected a field name"),
        ("family$Name='a'", "unexpected character"),
        ("a..b='x'", "malformed field name"),
    ],
)
def test_syntax_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nosuch='x'", "unknown filter field 'nosuch'"),
        ("born>'yesterday'", "not a valid date"),
        ("changed>'2024-13-45'", "not a valid datetime"),
        ("enabled='yes'", "expected 'true' or 'false'"),
        ("enabled>'true'", "only = and !="),
        ("born~'2010'", "text fields only"),
        ("grades>'09'", "does not apply to a list"),
    ],
)
def test_semantic_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        compile_filter(parse_filter(text), resolve)


def test_error_position_points_at_the_problem() -> None:
    with pytest.raises(FilterError) as info:
        parse_filter("familyName='a' AND 'x'")
    assert info.value.position == len("familyName='a' AND ")
