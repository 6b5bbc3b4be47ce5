"""The one YAML reader of every configuration file: bounded before anything is built from it.

A configuration comes from an admin's editor, a ticket or a copy-paste, so it is read as hostile
input: at most :data:`MAX_BYTES` bytes, UTF-8 only, at most :data:`MAX_DEPTH` levels of nesting,
no duplicate keys, and aliases (``*name``) that may add at most :data:`MAX_ALIAS_VALUES` values
when expanded — a "billion laughs" file is refused while it is still a small node graph, before
any Python object, pydantic model or dump multiplies it. Every refusal is a
:class:`~rostersync.errors.ConfigValidationError` naming the file and, where there is one, the
line, column or byte offset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from rostersync.errors import ConfigurationError, ConfigValidationError, Problem

#: The largest configuration file read, in bytes (1 MiB; real ones are a few KiB).
MAX_BYTES: Final = 1024 * 1024
#: The deepest nesting of mappings and lists (the deepest real section nests about 10 levels).
MAX_DEPTH: Final = 64
#: How many values aliases may add in total once expanded (each alias counts its whole subtree).
MAX_ALIAS_VALUES: Final = 100_000

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A bound was crossed while reading; carries the problem to report."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(where, message)


def _at(node: Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting bound while composing and refusing duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # compose_node recurses once per level: bound it before Python's own recursion limit.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(
                    f"line {mark.line + 1}, column {mark.column + 1}",
                    f"nested more than {MAX_DEPTH} levels deep; a configuration never needs that",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *base` may be overridden by the keys written beside it
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the constructor reports it
            if first is not None:
                raise _Refused(
                    _at(key_node),
                    f"duplicate key {key!r} (first given at {_at(first)}); keep only one",
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _check_graph(root: Node) -> None:
    """Refuse alias expansions that add too many values, nest too deep, or refer to themselves.

    The composed graph shares one node per anchor, so its expanded size and depth are computed
    with one visit per node (memoised), never by expanding it.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    visiting: set[int] = set()
    composed = 0

    def visit(node: Node, depth: int) -> tuple[int, int]:
        nonlocal composed
        key = id(node)
        if key in visiting:
            raise _Refused(_at(node), "an alias refers to the value that contains it")
        # reached through aliases (composing alone bounds the nesting as written)
        if depth + height.get(key, 1) - 1 > MAX_DEPTH:
            raise _Refused(
                _at(node), f"aliases nest values more than {MAX_DEPTH} levels deep; flatten them"
            )
        if key in size:
            return size[key], height[key]
        visiting.add(key)
        composed += 1
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        total, below = 1, 0
        for child in children:
            child_size, child_height = visit(child, depth + 1)
            total += child_size
            below = max(below, child_height)
            if total - composed > MAX_ALIAS_VALUES:
                raise _Refused(
                    _at(child),
                    f"aliases expand to more than {MAX_ALIAS_VALUES:,} values "
                    "(a 'billion laughs' file?); write the values out or use fewer aliases",
                )
        visiting.discard(key)
        size[key], height[key] = total, below + 1
        return total, below + 1

    visit(root, 1)


def _syntax_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = ", ".join(t for t in (exc.context, exc.problem) if t) or "invalid YAML"
        return Problem(where, f"YAML syntax: {what}")
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        return Problem(
            f"line {line}, column {column}",
            f"character U+{exc.character:04X} is not allowed in YAML; remove it",
        )
    return Problem("", f"YAML: {exc}")


def parse_yaml(text: str, source_name: str) -> Any:
    """The document of ``text`` as plain Python data, or a clear error naming ``source_name``.

    ``None`` for a file with no document (empty or comments only).
    """
    text = text.removeprefix("\ufeff")  # Windows editors start UTF-8 files with a BOM
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigValidationError(source_name, [_too_big(len(text.encode("utf-8", "replace")))])
    try:
        return _load(text)
    except _Refused as exc:
        raise ConfigValidationError(source_name, [exc.problem]) from None
    except yaml.YAMLError as exc:
        raise ConfigValidationError(source_name, [_syntax_problem(exc, text)]) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        # e.g. an integer of 5,000 digits: Python refuses to convert it
        problem = Problem("", f"unreadable value: {exc}")
        raise ConfigValidationError(source_name, [problem]) from None


def _load(text: str) -> Any:
    loader = _BoundedLoader(text)  # reads the text at once: refuses control characters
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_graph(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _too_big(size: int) -> Problem:
    return Problem(
        "",
        f"the file is {size:,} bytes; a configuration may be at most {MAX_BYTES:,} bytes (1 MiB)",
    )


def read_text(path: Path) -> str:
    """The text of a configuration file: bounded in size and strictly UTF-8."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the configuration file {path}: {exc.strerror or exc}",
            setting=str(path),
            hint="check the path and its permissions",
        ) from exc
    if len(raw) > MAX_BYTES:
        try:
            size = path.stat().st_size
        except OSError:
            size = len(raw)
        raise ConfigValidationError(str(path), [_too_big(max(size, len(raw)))])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigValidationError(
            str(path),
            [Problem("byte 0", "the file is UTF-16 text; save it as UTF-8")],
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigValidationError(
            str(path),
            [
                Problem(
                    f"byte offset {exc.start} (line {line})",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ],
        ) from None


def read_yaml(path: str | Path) -> Any:
    """The YAML document of a configuration file, read within every bound of this module."""
    path = Path(path)
    return parse_yaml(read_text(path), str(path))
