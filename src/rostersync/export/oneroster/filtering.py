"""OneRoster filter grammar: tokenizer, recursive-descent parser, AST, and a compiler to SQL.

The grammar (OneRoster 1.1/1.2 REST binding, "filter" query parameter)::

    expression := clause ( ("AND" | "OR") clause )*      AND binds tighter than OR
    clause     := field op value
    field      := NAME ( "." NAME )*                      dotted names for nested refs
    op         := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"   (~ means "contains")
    value      := "'" ( any char but "'" | "''" )* "'"    a doubled quote is a literal quote

The spec allows at most two clauses; a longer chain is accepted (it is unambiguous) so a lenient
consumer is not refused, up to :data:`MAX_CLAUSES` clauses (more is a 400 naming the limit).
Parsing and compiling are loops, not recursion, so no filter can exhaust the stack; there are no
parentheses, so an expression is an OR of ANDs and compiles to two flat levels of SQL. The
compiled expression is SQLAlchemy Core with every value a bound parameter: the filter text never
becomes SQL text.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from rostersync.clock import as_utc

Op = Literal["=", "!=", ">", ">=", "<", "<=", "~"]
OPS: tuple[Op, ...] = (">=", "<=", "!=", "=", ">", "<", "~")  # longest first for the tokenizer
ValueKind = Literal["text", "date", "datetime", "bool", "list"]
#: Most clauses one filter may join with AND/OR (the spec itself needs two).
MAX_CLAUSES = 100


class FilterError(ValueError):
    """A filter that cannot be parsed or compiled; ``position`` points into the filter text."""

    def __init__(self, message: str, *, position: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.field = field


@dataclass(frozen=True)
class Comparison:
    """One clause: ``field op 'value'``."""

    field: str
    op: Op
    value: str


@dataclass(frozen=True)
class Logical:
    """Two sub-expressions joined by AND or OR."""

    op: Literal["AND", "OR"]
    left: Node
    right: Node


Node = Comparison | Logical


@dataclass(frozen=True)
class Token:
    kind: Literal["name", "op", "value", "and", "or", "end"]
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens; a character that fits no token raises :class:`FilterError`."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            start, i, buf = i, i + 1, []
            while True:
                if i >= n:
                    raise FilterError("unterminated quoted value", position=start)
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            tokens.append(Token("value", "".join(buf), start))
            continue
        op = next((o for o in OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("op", op, i))
            i += len(op)
            continue
        if ch.isalpha() or ch == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] in "_."):
                i += 1
            word = text[start:i]
            if word == "AND":
                tokens.append(Token("and", word, start))
            elif word == "OR":
                tokens.append(Token("or", word, start))
            else:
                tokens.append(Token("name", word, start))
            continue
        if ch == '"':
            raise FilterError(
                "values must be in single quotes, e.g. familyName='Smith'", position=i
            )
        raise FilterError(f"unexpected character {ch!r}", position=i)
    tokens.append(Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.clauses = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            found = "end of filter" if tok.kind == "end" else repr(tok.text)
            raise FilterError(f"expected {what}, found {found}", position=tok.position)
        self.pos += 1
        return tok

    def expression(self) -> Node:
        node = self.conjunction()
        while self.peek().kind == "or":
            self.pos += 1
            node = Logical("OR", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node: Node = self.clause()
        while self.peek().kind == "and":
            self.pos += 1
            node = Logical("AND", node, self.clause())
        return node

    def clause(self) -> Comparison:
        field = self.take("name", "a field name")
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise FilterError(
                f"a filter may join at most {MAX_CLAUSES} clauses with AND/OR",
                position=field.position,
            )
        if field.text.startswith(".") or field.text.endswith(".") or ".." in field.text:
            raise FilterError(f"malformed field name {field.text!r}", position=field.position)
        op = self.take("op", "an operator (= != > >= < <= ~)")
        value = self.take("value", "a quoted value")
        return Comparison(field.text, op.text, value.text)  # type: ignore[arg-type]


def parse_filter(text: str) -> Node:
    """Parse a filter expression into its AST."""
    if not text.strip():
        raise FilterError("empty filter", position=0)
    parser = _Parser(text)
    node = parser.expression()
    tail = parser.peek()
    if tail.kind != "end":
        raise FilterError(
            f"expected AND, OR or the end of the filter, found {tail.text!r}",
            position=tail.position,
        )
    return node


@dataclass(frozen=True)
class Target:
    """What a filter field name resolves to: a column and how its values are read."""

    column: ColumnElement[Any]
    kind: ValueKind


Resolver = Callable[[str], Target | None]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _typed(value: str, kind: ValueKind, field: str) -> Any:
    try:
        if kind == "date":
            return dt.date.fromisoformat(value[:10])
        if kind == "datetime":
            return as_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError) as exc:  # overflow: year 1 with an offset east of UTC
        raise FilterError(
            f"{field}: {value!r} is not a valid {kind} (use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)",
            field=field,
        ) from exc
    if kind == "bool":
        if value not in ("true", "false"):
            raise FilterError(f"{field}: expected 'true' or 'false', not {value!r}", field=field)
        return value == "true"
    return value


def _compile_clause(clause: Comparison, target: Target) -> ColumnElement[bool]:
    col, kind, op = target.column, target.kind, clause.op
    if kind == "list":
        # Lists are stored as JSON arrays of strings: '=' means "has this element",
        # '~' means "some element contains this text"; ordering makes no sense on a list.
        if op == "=":
            return col.like(f'%"{_like_escape(clause.value)}"%', escape="\\")
        if op == "!=":
            return sa.or_(
                col.is_(None), sa.not_(col.like(f'%"{_like_escape(clause.value)}"%', escape="\\"))
            )
        if op == "~":
            return col.like(f"%{_like_escape(clause.value)}%", escape="\\")
        raise FilterError(f"{clause.field}: operator {op} does not apply to a list field")
    if op == "~":
        if kind != "text":
            raise FilterError(f"{clause.field}: '~' (contains) applies to text fields only")
        return col.icontains(clause.value, autoescape=True)
    value = _typed(clause.value, kind, clause.field)
    if kind == "bool" and op not in ("=", "!="):
        raise FilterError(f"{clause.field}: only = and != apply to a true/false field")
    compare: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
        "=": operator.eq,
        "!=": lambda c, v: sa.or_(c.is_(None), c != v),
        ">": operator.gt,
        ">=": operator.ge,
        "<": operator.lt,
        "<=": operator.le,
    }
    return compare[op](col, value)


def _operands(node: Logical) -> list[Node]:
    """The operands of a chain of one operator (``a AND b AND c``), left to right, by a loop."""
    found: list[Node] = []
    stack: list[Node] = [node.right, node.left]
    while stack:
        item = stack.pop()
        if isinstance(item, Logical) and item.op == node.op:
            stack += (item.right, item.left)
        else:
            found.append(item)
    return found


def compile_filter(node: Node, resolve: Resolver) -> ColumnElement[bool]:
    """Compile an AST to a SQLAlchemy boolean expression, resolving field names with ``resolve``.

    ``resolve`` returns ``None`` for a field the caller may not filter on (unknown, or withheld by
    a sharing rule); that becomes a :class:`FilterError` naming the field. Chains of one operator
    become one flat ``AND``/``OR`` (no nesting per clause), walked with an explicit stack.
    """
    done: dict[int, ColumnElement[bool]] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, expanded = stack.pop()
        if id(item) in done:
            continue
        if isinstance(item, Comparison):
            target = resolve(item.field)
            if target is None:
                raise FilterError(f"unknown filter field {item.field!r}", field=item.field)
            done[id(item)] = _compile_clause(item, target)
        elif expanded:
            parts = [done[id(o)] for o in _operands(item)]
            done[id(item)] = sa.and_(*parts) if item.op == "AND" else sa.or_(*parts)
        else:
            stack.append((item, True))
            stack += ((o, False) for o in reversed(_operands(item)))
    return done[id(node)]
