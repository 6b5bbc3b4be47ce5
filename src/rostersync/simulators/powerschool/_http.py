"""HTTP plumbing shared by the simulator's routes: JSON answers, errors, paging parameters."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


class HttpError(Exception):
    """An error answer, shaped like PowerSchool's (`message` + optional `errors`)."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, self.status, self.headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer serialised with orjson (dates as ISO strings)."""
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


#: Integer parameters are Java ints on the real server: larger values are refused (400).
INT_MAX = 2**31 - 1
#: Record ids are 64-bit: a larger one names no record (404).
ID_MAX = 2**63 - 1


def path_id(raw: str) -> int | None:
    """A record id from a path segment; None when it is no integer or out of the 64-bit range."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if -ID_MAX - 1 <= value <= ID_MAX else None


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter, or 400 naming it (also when it is out of range)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
        if not -INT_MAX - 1 <= value <= INT_MAX:
            raise HttpError(
                400,
                "Validation Failed",
                [
                    {
                        "resource": str(request.url.path),
                        "field": name,
                        "code": f"{name} out of range (at most {INT_MAX})",
                    }
                ],
            )
        return value
    except ValueError:
        raise HttpError(
            400,
            "Validation Failed",
            [
                {
                    "resource": str(request.url.path),
                    "field": name,
                    "code": f"invalid integer {raw[:40]!r}",
                }
            ],
        ) from None


def paging(request: Request, max_size: int, over_max: str) -> tuple[int, int]:
    """(page, pagesize) for a v1 or table call: 1-based pages, bounded by the plugin's max."""
    page = int_param(request, "page", 1)
    size = int_param(request, "pagesize", max_size)
    if page < 1:
        raise HttpError(
            400,
            "Validation Failed",
            [{"resource": request.url.path, "field": "page", "code": "must be >= 1"}],
        )
    if size <= 0:
        size = max_size
    if size > max_size:
        if over_max == "error":
            raise HttpError(
                400,
                "Validation Failed",
                [
                    {
                        "resource": request.url.path,
                        "field": "pagesize",
                        "code": f"pagesize may not exceed {max_size}",
                    }
                ],
            )
        size = max_size
    return page, size


def csv_param(request: Request, name: str) -> list[str]:
    """A comma-separated parameter as lower-case names (blank entries dropped)."""
    raw = request.query_params.get(name, "")
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


async def json_body(request: Request) -> Any:
    """The request's JSON body, or the 400 PowerSchool gives for malformed JSON."""
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise HttpError(
            415,
            f"Unsupported Media Type: {content_type or 'none'}; "
            "send Content-Type: application/json",
        )
    raw = await request.body()
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"Malformed JSON body: {exc}") from None
