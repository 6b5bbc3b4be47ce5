"""OneRoster REST protocol pieces: status-info error bodies (1.1 and 1.2), paging headers.

A failed request gets the spec's body: 1.2 a bare ``imsx_StatusInfo`` object, 1.1 the same
object inside ``statusInfoSet``; the code minor sits in
``imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue``. Successful responses carry
no status object.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

#: HTTP status of each code minor.
STATUS_OF: Final[dict[str, int]] = {
    "invalid_filter_field": 400,
    "invalid_selection_field": 400,
    "invalid_sort_field": 400,
    "invaliddata": 400,
    "unauthorisedrequest": 401,
    "forbidden": 403,
    "unknownobject": 404,
    "server_busy": 429,
    "internal_server_error": 500,
}
MAX_LIMIT: Final = 10_000
DEFAULT_LIMIT: Final = 100
#: Largest ``limit``/``offset`` accepted (a signed 64-bit integer, what the databases take).
MAX_PAGING: Final = 2**63 - 1


class OneRosterError(Exception):
    """A request the provider refuses, with the spec's code minor and a description."""

    def __init__(
        self,
        code_minor: str,
        description: str,
        *,
        status: int | None = None,
        major: str = "failure",
    ) -> None:
        super().__init__(description)
        self.code_minor = code_minor
        self.description = description
        self.status = status or STATUS_OF.get(code_minor, 400)
        #: ``failure``, or ``unsupported`` for an operation the service does not offer.
        self.major = major


def status_info(code_minor: str, description: str, *, major: str = "failure") -> dict[str, Any]:
    return {
        "imsx_codeMajor": major,
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": code_minor,
                }
            ]
        },
    }


def error_body(
    version: str, code_minor: str, description: str, *, major: str = "failure"
) -> dict[str, Any]:
    """The error body of a version: 1.2 ``imsx_StatusInfo``; 1.1 wrapped in ``statusInfoSet``."""
    info = status_info(code_minor, description, major=major)
    return info if version == "1.2" else {"statusInfoSet": [info]}


def link_header(url: str, params: dict[str, str], total: int, limit: int, offset: int) -> str:
    """RFC 5988 ``Link`` with first/prev/next/last pages (prev/next only when they exist)."""

    def at(off: int) -> str:
        query = dict(params, limit=str(limit), offset=str(off))
        return f"<{url}?{urlencode(query)}>"

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links = [f'{at(0)}; rel="first"']
    if offset > 0:
        links.append(f'{at(max(0, min(offset - limit, last)))}; rel="prev"')
    if offset + limit < total:
        links.append(f'{at(offset + limit)}; rel="next"')
    links.append(f'{at(last)}; rel="last"')
    return ", ".join(links)


def parse_paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    """``limit`` (1…MAX_LIMIT, default 100; larger asks are served MAX_LIMIT) and ``offset``
    (≥ 0); each must be ASCII digits within a signed 64-bit integer, else invaliddata."""
    values: list[int] = []
    for name, text, default in (("limit", limit, DEFAULT_LIMIT), ("offset", offset, 0)):
        if text in (None, ""):
            values.append(default)
            continue
        assert text is not None
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            raise OneRosterError(
                "invaliddata", f"{name} must be a whole number of at most 19 digits, not {text!r}"
            )
        value = int(text)
        if value > MAX_PAGING:
            raise OneRosterError("invaliddata", f"{name} must be at most {MAX_PAGING}")
        values.append(value)
    lim, off = values
    if lim < 1:
        raise OneRosterError("invaliddata", "limit must be at least 1")
    if off < 0:
        raise OneRosterError("invaliddata", "offset must not be negative")
    return min(lim, MAX_LIMIT), off
