"""The installed PowerSchool plugin: plugin.xml (`<oauth/>`, `<access_request>`) and named queries.

Plugin access control governs ``/ws/schema`` (tables and PowerQueries): a column not listed in the
plugin's ``<access_request>`` cannot be read. :func:`read_plugin` reads a plugin zip (or a bare
``plugin.xml``) in the real format; :func:`default_plugin_xml` writes the default plugin, which
grants every column a roster sync needs.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from rostersync.errors import ConfigurationError

NS = "http://plugin.powerschool.pearson.com"
DEFAULT_NAME = "rostersync"


@dataclass(frozen=True)
class QueryArg:
    """One argument of a named query."""

    name: str
    column: str = ""
    required: bool = False
    type: str = "primitive"
    default: str | None = None
    casing: str = "none"


@dataclass(frozen=True)
class NamedQuery:
    """A PowerQuery: name, core table, arguments, output columns (TABLE.COL, alias) and SQL."""

    name: str
    core_table: str
    flattened: bool
    args: tuple[QueryArg, ...]
    columns: tuple[tuple[str, str], ...]
    sql: str
    record_name: str = ""


@dataclass
class Plugin:
    """What the simulator's installed plugin grants."""

    name: str = DEFAULT_NAME
    version: str = "1.0.0"
    oauth: bool = True
    #: `accessLevelV1Api` (SIS 25.2+); None = attribute absent.
    access_level_v1: str | None = None
    #: table (lower) → field (lower, or "*") → ViewOnly | FullAccess.
    access: dict[str, dict[str, str]] = field(default_factory=dict)
    queries: dict[str, NamedQuery] = field(default_factory=dict)

    def level(self, table: str, column: str) -> str | None:
        """The access granted to one column, or None."""
        granted = self.access.get(table.lower(), {})
        return granted.get(column.lower()) or granted.get("*")

    def denied(self, table: str, columns: Sequence[str]) -> list[str]:
        """The columns of `table` this plugin may not read."""
        return [c for c in columns if self.level(table, c) is None]

    def may_write(self, table: str, columns: Sequence[str]) -> list[str]:
        """The columns of `table` this plugin may not write (not FullAccess)."""
        return [c for c in columns if self.level(table, c) != "FullAccess"]


def _fail(where: str, message: str) -> ConfigurationError:
    return ConfigurationError(
        f"plugin {where}: {message}",
        setting="plugin",
        hint="give a PowerSchool plugin zip with plugin.xml at its root",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_plugin_xml(text: bytes | str, where: str = "plugin.xml") -> Plugin:
    """Read plugin.xml: name, version, `<oauth/>` and `<access_request>` fields."""
    try:
        root = ET.fromstring(text)  # noqa: S314 - a local file the admin chose
    except ET.ParseError as exc:
        raise _fail(where, f"not well-formed XML ({exc})") from exc
    if _local(root.tag) != "plugin":
        raise _fail(where, f"root element is <{_local(root.tag)}>, expected <plugin>")
    name = root.get("name")
    version = root.get("version")
    if not name or len(name) > 40:
        raise _fail(where, "<plugin name> is required (at most 40 characters)")
    if not version or len(version) > 20 or not all(p.isdigit() for p in version.split(".")):
        raise _fail(where, "<plugin version> is required: digits and dots, at most 20 characters")
    plugin = Plugin(name=name, version=version, oauth=False)
    for child in root:
        tag = _local(child.tag)
        if tag == "oauth":
            plugin.oauth = True
            plugin.access_level_v1 = child.get("accessLevelV1Api")
        elif tag == "access_request":
            for index, item in enumerate(child):
                if _local(item.tag) != "field":
                    continue
                table, column = item.get("table"), item.get("field")
                access = item.get("access", "ViewOnly")
                if not table or not column or access not in ("ViewOnly", "FullAccess"):
                    raise _fail(
                        where,
                        f"access_request field #{index + 1} needs table, field and access "
                        "ViewOnly|FullAccess",
                    )
                plugin.access.setdefault(table.lower(), {})[column.lower()] = access
    return plugin


def parse_named_queries(text: bytes, where: str) -> list[NamedQuery]:
    """Read one `*.named_queries.xml` file."""
    try:
        root = ET.fromstring(text)  # noqa: S314 - a local file the admin chose
    except ET.ParseError as exc:
        raise _fail(where, f"not well-formed XML ({exc})") from exc
    queries = []
    for q in root.iter():
        if _local(q.tag) != "query":
            continue
        name = q.get("name")
        if not name:
            raise _fail(where, "a <query> has no name")
        args: list[QueryArg] = []
        columns: list[tuple[str, str]] = []
        sql = ""
        for part in q:
            tag = _local(part.tag)
            if tag == "args":
                args += [
                    QueryArg(
                        a.get("name", ""),
                        a.get("column", ""),
                        a.get("required", "false") == "true",
                        a.get("type", "primitive"),
                        a.get("default"),
                        a.get("casing", "none"),
                    )
                    for a in part
                ]
            elif tag == "columns":
                columns += [(c.get("column", ""), (c.text or "").strip()) for c in part]
            elif tag == "sql":
                sql = (part.text or "").strip()
        core = q.get("coreTable", "")
        queries.append(
            NamedQuery(
                name, core, q.get("flattened", "false") == "true", tuple(args), tuple(columns), sql
            )
        )
    return queries


def read_plugin(path: str | Path) -> Plugin:
    """Read a plugin zip (plugin.xml + queries_root/*.named_queries.xml) or a bare plugin.xml."""
    source = Path(path)
    if not source.is_file():
        raise _fail(str(source), "file not found")
    if source.suffix.lower() == ".xml":
        return parse_plugin_xml(source.read_bytes(), str(source))
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
            if "plugin.xml" not in names:
                raise _fail(str(source), "no plugin.xml at the root of the zip")
            plugin = parse_plugin_xml(archive.read("plugin.xml"), f"{source}:plugin.xml")
            for member in names:
                if member.startswith("queries_root/") and member.endswith(".named_queries.xml"):
                    for query in parse_named_queries(archive.read(member), f"{source}:{member}"):
                        plugin.queries[query.name] = query
    except zipfile.BadZipFile as exc:
        raise _fail(str(source), f"not a zip file ({exc})") from exc
    return plugin


def default_plugin_xml(
    tables: Mapping[str, Sequence[str]],
    *,
    name: str = DEFAULT_NAME,
    writable: Sequence[str] = ("u_def_ext_students",),
) -> str:
    """plugin.xml of the default plugin: OAuth on, every listed column granted (ViewOnly, or
    FullAccess for the `writable` tables)."""
    fields = "\n".join(
        f'    <field table="{table.upper()}" field="{column.upper()}" '
        f'access="{"FullAccess" if table in writable else "ViewOnly"}"/>'
        for table, columns in tables.items()
        for column in columns
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<plugin xmlns="{NS}" name="{name}" version="1.0.0" '
        'description="Roster sync: reads schools, calendars, courses, sections, students, '
        'contacts and staff.">\n'
        "  <oauth/>\n"
        "  <access_request>\n"
        f"{fields}\n"
        "  </access_request>\n"
        '  <publisher name="rostersync"><contact email="admin@example.org"/></publisher>\n'
        "</plugin>\n"
    )
