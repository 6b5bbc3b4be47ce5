"""GUID-safe sourcedIds: OneRoster's character set, the escape for the rest, and derived ids.

OneRoster 1.2 allows a sourcedId of 1-255 characters from ``0-9 A-Z a-z . - _ / @``. An ID from a
source that holds any other character (a space, ``~``, ``:``, an accent…) is escaped: every
character outside the set becomes ``@XX`` per UTF-8 byte (upper-case hex), and in such an ID an
``@`` itself becomes ``@40`` first, so the escaped text decodes back to the original. IDs that are
already safe are left untouched (they stay stable across upgrades); the raw ID of every record is
kept in ``sourceId`` anyway.

Derived IDs (a 1.2 role is one user in one org) join their parts with ``/``; inside a part ``@``
becomes ``@40`` and ``/`` becomes ``@2F``, so splitting on ``/`` and decoding each part gives the
parts back (:func:`split_derived_id`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import polars as pl

#: One character of the GUID set; an ID is safe when every character is one of these.
SAFE_CHAR: Final = r"0-9A-Za-z.\-_/@"
SAFE_ID: Final = re.compile(rf"^[{SAFE_CHAR}]{{1,255}}$")
UNSAFE_PATTERN: Final = rf"[^{SAFE_CHAR}]"
DERIVED_SEPARATOR: Final = "/"


def escape_char(char: str) -> str:
    """``@XX`` for each UTF-8 byte of ``char``."""
    return "".join(f"@{b:02X}" for b in char.encode("utf-8"))


def unsafe_chars(values: pl.Series) -> list[str]:
    """The distinct characters outside the GUID set found in a text column (usually none)."""
    if values.len() == 0:
        return []
    unsafe = values.filter(values.str.contains(UNSAFE_PATTERN).fill_null(False))
    found = unsafe.str.extract_all(UNSAFE_PATTERN).explode().drop_nulls().unique()
    return sorted(found.to_list())


def escape_expr(expr: pl.Expr, chars: Iterable[str]) -> pl.Expr:
    """``expr`` with the given unsafe characters escaped, only in values that hold one.

    Columnar: one literal replacement per distinct unsafe character, not a loop over rows.
    """
    chars = list(chars)
    if not chars:
        return expr
    escaped = expr.str.replace_all("@", "@40", literal=True)
    for char in chars:
        escaped = escaped.str.replace_all(char, escape_char(char), literal=True)
    return pl.when(expr.str.contains(UNSAFE_PATTERN)).then(escaped).otherwise(expr)


def decode_id(text: str) -> str:
    """The original text of an escaped ID (or of one part of a derived ID).

    Raises :class:`ValueError` naming the text when its escapes are not UTF-8 (no escaped ID
    this module wrote looks like that).
    """
    if "@" not in text:
        return text
    data = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "@" and re.fullmatch(r"[0-9A-F]{2}", text[i + 1 : i + 3]):
            data.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            data += text[i].encode("utf-8")
            i += 1
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{text!r} is not an escaped sourcedId: its @XX escapes are not UTF-8 ({exc.reason})"
        ) from None


def _part(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all("@", "@40", literal=True).str.replace_all("/", "@2F", literal=True)


def derived_id(*parts: pl.Expr) -> pl.Expr:
    """A GUID-safe ID made of other IDs (``<user>/<org>`` for a role), reversible."""
    return pl.concat_str([_part(p) for p in parts], separator=DERIVED_SEPARATOR)


def split_derived_id(value: str) -> list[str]:
    """The parts of a :func:`derived_id`."""
    return [decode_id(p) for p in value.split(DERIVED_SEPARATOR)]
