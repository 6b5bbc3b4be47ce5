"""Test Connection's diagnosis of two common Delivery Config mistakes, named exactly.

* A service URL pasted with PowerSchool's API path (``https://sis.example.org/ws/v1``): every
  request would go to ``/ws/v1/ws/v1/…`` and the token request to ``/ws/v1/oauth/…``, which
  PowerSchool answers in ways that look like wrong credentials. The diagnosis says the URL is
  the server's address alone and suggests it.
* A custom field of the attribute mapping (``TABLE.field``) that PowerSchool does not have: the
  table API answers "Validation Failed" or "not found" for the whole table; the diagnosis reads
  the table's metadata and names each field (or table) that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from rostersync.connectors.base import ConnectionReport
from rostersync.connectors.powerschool._http import ApiSession
from rostersync.connectors.powerschool._json import as_list, dig
from rostersync.connectors.powerschool._tables import CustomRead
from rostersync.errors import SourceDataError

#: PowerSchool's API paths, which never belong in the service URL.
_API_PATH = re.compile(r"/(ws|oauth)(/|$)", re.IGNORECASE)


def service_url_report(url: str) -> ConnectionReport | None:
    """A failed report when ``url`` carries an API path such as ``/ws/v1``; else None."""
    parts = urlsplit(url)
    found = _API_PATH.search(parts.path)
    if found is None:
        return None
    base = parts.path[: found.start()].rstrip("/")
    suggested = urlunsplit((parts.scheme, parts.netloc, base, "", ""))
    pasted = parts.path[found.start() :]
    return ConnectionReport(
        False,
        f"The service URL {url} includes PowerSchool's API path {pasted}: the service URL is "
        "the server's address only",
        hint=f"set the service URL to {suggested}",
        details={"suggested_url": suggested},
    )


async def unknown_fields(session: ApiSession, reads: Iterable[CustomRead]) -> list[str]:
    """The configured ``TABLE.field`` names PowerSchool does not have (the table or the field)."""
    out: list[str] = []
    for read in reads:
        try:
            payload = await session.get(f"/ws/schema/table/{read.table}/metadata")
        except SourceDataError:  # no such table: every field of it is unknown
            out.extend(name for _, name in read.fields)
            continue
        columns = {
            str(c.get("name", "")).lower()
            for c in as_list(dig(payload, "columns"))
            if isinstance(c, dict)
        }
        out.extend(name for column, name in read.fields if column not in columns)
    return list(dict.fromkeys(out))
