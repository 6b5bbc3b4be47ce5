"""Plugin generator: the PowerSchool plugin a district installs to let rostersync read its data.

A PowerSchool plugin is a zip with ``plugin.xml`` at its root (reference §1). Ours turns on OAuth
client credentials (``<oauth/>``, with ``accessLevelV1Api="READ"`` so SIS 25.2+ lets us read
``/ws/v1``) and asks, in ``<access_request>``, for exactly the schema-table columns the
configuration makes the connector read: calendar days, co-teachers when ``sync_co_teachers`` is
on, the Contacts module tables when ``contact_module`` is on, and every custom ``TABLE.field``
named in ``attribute_mapping``; with ``sync_mode: two_way`` also grade sync (``FullAccess`` on
PowerTeacher Pro's assignment tables, :data:`~.writeback.WRITE_ACCESS`). With the ``incremental``
option the zip also carries ``queries_root/rostersync.named_queries.xml``: the PowerQuery
incremental extraction asks with ``$dataversion`` for the enrollments changed since the previous
sync.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from rostersync.connectors.powerschool._changes import NAMED_QUERIES_XML
from rostersync.connectors.powerschool._tables import access_fields
from rostersync.connectors.powerschool.connector import ExtractPlan
from rostersync.connectors.powerschool.writeback import WRITE_ACCESS
from rostersync.errors import ConfigurationError

NAMESPACE = "http://plugin.powerschool.pearson.com"
DEFAULT_NAME = "rostersync"
DEFAULT_VERSION = "1.0.0"
V1_LEVELS = ("READ", "FULL", "NONE")


def plugin_xml(
    plan: ExtractPlan | None = None,
    *,
    name: str = DEFAULT_NAME,
    version: str = DEFAULT_VERSION,
    v1_access: str | None = "READ",
    contact_email: str = "admin@example.org",
) -> str:
    """``plugin.xml`` for ``plan`` (the default plan without a configuration)."""
    plan = plan or ExtractPlan()
    if not name or len(name) > 40:
        raise ConfigurationError("plugin name must have 1 to 40 characters", setting="--name")
    if not version or len(version) > 20 or not all(p.isdigit() for p in version.split(".")):
        raise ConfigurationError(
            "plugin version must be digits and dots (at most 20 characters)", setting="--version"
        )
    if v1_access is not None and v1_access not in V1_LEVELS:
        raise ConfigurationError(
            f"v1 access level must be one of {', '.join(V1_LEVELS)}", setting="--v1-access"
        )
    if len(contact_email) > 40:
        raise ConfigurationError("publisher email has at most 40 characters", setting="--email")
    fields = []
    for table, columns in access_fields(plan.table_reads()).items():
        for column in columns:
            if len(table) > 30 or len(column) > 30:
                raise ConfigurationError(
                    f"{table}.{column}: PowerSchool table and field names have at most 30 "
                    "characters",
                    setting="attribute_mapping",
                )
            fields.append(
                f"    <field table={quoteattr(table.upper())} field={quoteattr(column.upper())} "
                'access="ViewOnly"/>'
            )
    if plan.write_back:  # sync_mode two_way: PowerTeacher Pro grade sync (writeback.py)
        fields += [
            f'    <field table="{table}" field="*" access="{access}"/>'
            for table, access in WRITE_ACCESS
        ]
    oauth = "<oauth/>" if v1_access is None else f'<oauth accessLevelV1Api="{v1_access}"/>'
    description = (
        "rostersync roster sync: reads schools, calendars, courses, sections, enrollments, "
        "students, contacts and staff"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<plugin xmlns={quoteattr(NAMESPACE)} name={quoteattr(name)} "
        f"version={quoteattr(version)} description={quoteattr(description)}>\n"
        f"  {oauth}\n"
        "  <access_request>\n" + "\n".join(fields) + "\n  </access_request>\n"
        f'  <publisher name="rostersync"><contact email={quoteattr(contact_email)}/></publisher>\n'
        "</plugin>\n"
    )


def plugin_zip(plan: ExtractPlan | None = None, **options: str | None) -> bytes:
    """The installable plugin zip (``plugin.xml`` at its root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plugin.xml", plugin_xml(plan, **options))  # type: ignore[arg-type]
        if plan is not None and plan.change_tracking:
            archive.writestr("queries_root/rostersync.named_queries.xml", NAMED_QUERIES_XML)
    return buffer.getvalue()


def write_plugin(out: str | Path, plan: ExtractPlan | None = None, **options: str | None) -> Path:
    """Write the plugin zip (or a bare ``plugin.xml`` when ``out`` ends in ``.xml``)."""
    path = Path(out)
    try:
        if path.suffix.lower() == ".xml":
            path.write_text(plugin_xml(plan, **options), encoding="utf-8")  # type: ignore[arg-type]
        else:
            path.write_bytes(plugin_zip(plan, **options))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the plugin to {path}: {exc.strerror or exc}",
            setting="--out",
            hint="choose a writable path",
        ) from exc
    return path
