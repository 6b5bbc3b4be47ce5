"""Writes for 2-way sync: `POST /ws/v1/student`, table rows on extension tables, and the
PowerTeacher Pro grade-sync endpoints (`/ws/xte`). Accepted, validated and stored, so a later read
shows them; every accepted write is added to the change log (and so to the data version).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _xte
from ._http import HttpError, json_body, json_response, path_id
from ._tables import primary_key
from ._v1 import EXTENSION_TABLES, LETTER_CODE, one_or_many

if TYPE_CHECKING:
    from .app import Simulator

Row = dict[str, Any]
#: v1 name/contact fields → STUDENTS columns.
NAME_FIELDS = {"first_name": "first_name", "middle_name": "middle_name", "last_name": "last_name"}
CONTACT_FIELDS = {
    "emergency_contact_name1": "emerg_contact_1",
    "emergency_phone1": "emerg_phone_1",
    "emergency_contact_name2": "emerg_contact_2",
    "emergency_phone2": "emerg_phone_2",
    "guardian_email": "guardianemail",
    "mother": "mother",
    "father": "father",
}
PAIRS = (
    ("emergency_contact_name1", "emergency_phone1"),
    ("emergency_contact_name2", "emergency_phone2"),
)


def _err(field: str, code: str, text: str) -> Row:
    return {"field": field, "error_code": code, "error_description": text}


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


class StudentWrites:
    """`POST /ws/v1/student`: INSERT and UPDATE, with per-item results."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    async def handle(self, request: Request) -> Response:
        cfg = self.sim.config
        level = (self.sim.plugin.access_level_v1 or "NONE").upper()
        if cfg.enforce_v1_access_level and level != "FULL":
            raise HttpError(
                cfg.v1_denied_status,
                f"Writes to /ws/v1 need accessLevelV1Api=FULL (plugin has {level})",
            )
        body = await json_body(request)
        items = body.get("students", {}).get("student") if isinstance(body, dict) else None
        if not isinstance(items, dict | list):
            raise HttpError(400, 'Body must be {"students": {"student": [...]}}')
        results, inserts, updates = [], 0, 0
        base = str(request.base_url).rstrip("/")
        with self.sim.lock:
            for item in _as_list(items):
                result = self.one(item, base)
                results.append(result)
                if result["status"] != "ERROR":
                    inserts += result["action"] == "INSERT"
                    updates += result["action"] == "UPDATE"
            if inserts or updates:
                self.sim.district.revision += 1
        return json_response(
            {
                "results": {
                    "insert_count": inserts,
                    "update_count": updates,
                    "delete_count": 0,
                    "result": one_or_many(results),
                }
            }
        )

    def one(self, item: Any, base: str) -> Row:
        if not isinstance(item, dict):
            return {
                "status": "ERROR",
                "action": "",
                "error_message": {
                    "error": _err("student", "FIELD_VALIDATION_ERROR", "not an object")
                },
            }
        action = str(item.get("action", "")).upper()
        uid = item.get("client_uid")
        head: Row = {"client_uid": uid} if uid is not None else {}
        errors: list[Row] = []
        if action not in ("INSERT", "UPDATE"):
            errors.append(
                _err("student/action", "FIELD_VALIDATION_ERROR", "action must be INSERT or UPDATE")
            )
        for name, phone in PAIRS:
            contact = item.get("contact") or {}
            if isinstance(contact, dict) and (name in contact) != (phone in contact):
                errors.append(
                    _err(
                        f"student/contact/{phone if name in contact else name}",
                        "REQUIRED",
                        "contact name and phone must be given together",
                    )
                )
        if not errors:
            dcid = self.insert(item, errors) if action == "INSERT" else self.update(item, errors)
        if errors:
            return {
                **head,
                "status": "ERROR",
                "action": action,
                "error_message": {"error": one_or_many(errors)},
            }
        return {
            **head,
            "status": "SUCCESS",
            "action": action,
            "success_message": {"id": dcid, "ref": f"{base}/ws/v1/student/{dcid}"},
        }

    def insert(self, item: Row, errors: list[Row]) -> int:
        d = self.sim.district
        name = item.get("name") or {}
        enrollment = item.get("school_enrollment") or {}
        for key in ("first_name", "last_name"):
            if not (isinstance(name, dict) and name.get(key)):
                errors.append(_err(f"student/name/{key}", "REQUIRED", f"{key} is required"))
        if not item.get("local_id"):
            errors.append(_err("student/local_id", "REQUIRED", "local_id is required"))
        for key in ("school_number", "grade_level", "entry_date", "exit_date"):
            if not isinstance(enrollment, dict) or enrollment.get(key) in (None, ""):
                errors.append(
                    _err(f"student/school_enrollment/{key}", "REQUIRED", f"{key} is required")
                )
        if errors:
            return 0
        schools = d["schools"]["school_number"].to_list()
        try:
            number = int(enrollment["school_number"])
            grade = int(enrollment["grade_level"])
            entry = dt.date.fromisoformat(str(enrollment["entry_date"]))
            exit_ = dt.date.fromisoformat(str(enrollment["exit_date"]))
            local_id = int(item["local_id"])
        except (TypeError, ValueError) as exc:
            errors.append(_err("student/school_enrollment", "FIELD_VALIDATION_ERROR", str(exc)))
            return 0
        if number not in schools:
            errors.append(
                _err(
                    "student/school_enrollment/school_number",
                    "FIELD_VALIDATION_ERROR",
                    f"no school number {number}",
                )
            )
        status = str(enrollment.get("enroll_status", "A")).upper()
        if status not in ("A", "I", "P", "H"):
            errors.append(
                _err(
                    "student/school_enrollment/enroll_status",
                    "FIELD_VALIDATION_ERROR",
                    "on insert only A, I, P or H",
                )
            )
        students = d["students"]
        if students.filter(pl.col("student_number") == local_id).height:
            errors.append(
                _err(
                    "student/local_id",
                    "FIELD_VALIDATION_ERROR",
                    f"local_id {local_id} already exists",
                )
            )
        if errors:
            return 0
        new_id = int(students["id"].max() or 0) + 1  # type: ignore[arg-type]
        dcid = new_id + 100_000
        row = {
            "id": new_id,
            "dcid": dcid,
            "student_number": local_id,
            "first_name": name["first_name"],
            "middle_name": name.get("middle_name"),
            "last_name": name["last_name"],
            "grade_level": grade,
            "schoolid": number,
            "enroll_status": int(LETTER_CODE[status]),
            "entrydate": entry,
            "exitdate": exit_,
            "districtentrydate": entry,
            "lunch_id": new_id + 500_000,
            "student_web_id": item.get("student_username"),
        }
        new = pl.DataFrame([row]).cast({k: v for k, v in students.schema.items() if k in row})
        d.tables["students"] = pl.concat([students, new], how="diagonal_relaxed")
        for table in ("u_def_ext_students", "studentcorefields"):
            ext = pl.DataFrame({"studentsdcid": [dcid]})
            d.tables[table] = pl.concat([d.tables[table], ext], how="diagonal_relaxed")
        self._apply(dcid, item, errors)
        _log(self.sim, "students", "insert", dcid, "inserted through /ws/v1/student")
        return dcid

    def update(self, item: Row, errors: list[Row]) -> int:
        d = self.sim.district
        try:
            dcid = int(item.get("id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.append(_err("student/id", "REQUIRED", "id (the student DCID) is required"))
            return 0
        if d["students"].filter(pl.col("dcid") == dcid).height == 0:
            errors.append(_err("student/id", "FIELD_VALIDATION_ERROR", f"no student {dcid}"))
            return 0
        self._apply(dcid, item, errors)
        if not errors:
            _log(self.sim, "students", "update", dcid, "updated through /ws/v1/student")
        return dcid

    def _apply(self, dcid: int, item: Row, errors: list[Row]) -> None:
        d = self.sim.district
        changes: dict[str, Any] = {}
        name = item.get("name")
        if isinstance(name, dict):
            changes.update({NAME_FIELDS[k]: v for k, v in name.items() if k in NAME_FIELDS})
        contact = item.get("contact")
        if isinstance(contact, dict):
            changes.update(
                {CONTACT_FIELDS[k]: v for k, v in contact.items() if k in CONTACT_FIELDS}
            )
        demographics = item.get("demographics")
        if isinstance(demographics, dict) and demographics.get("gender"):
            changes["gender"] = str(demographics["gender"])
        if changes:
            d.tables["students"] = _set(d["students"], "dcid", dcid, changes)
        info = item.get("contact_info")
        if isinstance(info, dict) and "email" in info:
            d.tables["u_def_ext_students"] = _set(
                d["u_def_ext_students"], "studentsdcid", dcid, {"school_email": info["email"]}
            )
        extension = item.get("_extension_data") or {}
        for ext in _as_list(
            extension.get("_table_extension") if isinstance(extension, dict) else None
        ):
            name_ = str(ext.get("name", "")).lower() if isinstance(ext, dict) else ""
            table = next((t for n, (t, _f) in EXTENSION_TABLES.items() if name_ in (n, t)), None)
            if table is None or table not in d.tables:
                errors.append(
                    _err(
                        "student/_extension_data",
                        "FIELD_VALIDATION_ERROR",
                        f"unknown extension {name_!r}",
                    )
                )
                continue
            values = {}
            for f in _as_list(ext.get("_field")):
                column = str(f.get("name", "")).lower() if isinstance(f, dict) else ""
                if column not in d[table].columns or column == "studentsdcid":
                    errors.append(
                        _err(
                            f"student/_extension_data/{name_}/{column}",
                            "FIELD_VALIDATION_ERROR",
                            "unknown field",
                        )
                    )
                    continue
                values[column] = f.get("value")
            if values:
                d.tables[table] = _set(d[table], "studentsdcid", dcid, values)


def _set(frame: pl.DataFrame, key: str, value: int, changes: Row) -> pl.DataFrame:
    """`frame` with `changes` applied to the row(s) whose `key` is `value` (types kept)."""
    hit = pl.col(key) == value
    exprs = []
    for column, new in changes.items():
        dtype = frame.schema[column]
        literal = pl.lit(new).cast(dtype, strict=False) if new is not None else pl.lit(None, dtype)
        exprs.append(pl.when(hit).then(literal).otherwise(pl.col(column)).alias(column))
    return frame.with_columns(exprs)


def _log(sim: Simulator, table: str, action: str, key: int, what: str) -> None:
    d = sim.district
    entry = pl.DataFrame(
        {"day": [d.day], "table": [table], "action": [action], "key": [key], "what": [what]},
        schema=d.changes.schema,
    )
    d.changes = pl.concat([d.changes, entry])


class TableWrites:
    """Insert, update and delete rows of extension tables (`U_*`) through the table API."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _table(self, request: Request) -> str:
        table = str(request.path_params["table"]).lower()
        if table not in self.sim.district.tables:
            raise HttpError(404, f"Table {table} not found")
        if not table.startswith("u_"):
            raise HttpError(403, f"Table {table} is a core table: not writable through the API")
        return table

    def _values(self, table: str, body: Any) -> Row:
        values = body.get("tables", {}).get(table) if isinstance(body, dict) else None
        if not isinstance(values, dict) or not values:
            raise HttpError(400, f'Body must be {{"tables": {{"{table}": {{...}}}}}}')
        frame = self.sim.district[table]
        values = {k.lower(): v for k, v in values.items()}
        unknown = [k for k in values if k not in frame.columns]
        if unknown:
            raise HttpError(
                400,
                "Validation Failed",
                [
                    {"resource": table, "field": f"{table}.{k}", "code": "Invalid column"}
                    for k in unknown
                ],
            )
        denied = self.sim.plugin.may_write(table, list(values))
        if denied:
            raise HttpError(
                403,
                "Validation Failed",
                [
                    {"resource": table, "field": f"{table}.{c}", "code": "No write access"}
                    for c in denied
                ],
            )
        return values

    def _answer(self, request: Request, action: str, key: int) -> Response:
        base = str(request.base_url).rstrip("/")
        table = request.path_params["table"].lower()
        return json_response(
            {
                "insert_count": int(action == "INSERT"),
                "update_count": int(action == "UPDATE"),
                "delete_count": int(action == "DELETE"),
                "result": [
                    {
                        "status": "SUCCESS",
                        "action": action,
                        "success_message": {
                            "id": key,
                            "ref": f"{base}/ws/schema/table/{table}/{key}",
                        },
                    }
                ],
            }
        )

    async def insert(self, request: Request) -> Response:
        table = self._table(request)
        values = self._values(table, await json_body(request))
        d = self.sim.district
        with self.sim.lock:
            frame = d[table]
            key = primary_key(frame)
            if key not in values:
                raise HttpError(
                    400,
                    "Validation Failed",
                    [{"resource": table, "field": f"{table}.{key}", "code": "required"}],
                )
            try:
                key_value = int(values[key])
            except (TypeError, ValueError):
                raise HttpError(400, f"{table}.{key} must be an integer") from None
            if (
                key == "studentsdcid"
                and d["students"].filter(pl.col("dcid") == key_value).height == 0
            ):
                raise HttpError(400, f"No student with DCID {key_value}")
            if frame.filter(pl.col(key) == key_value).height:
                raise HttpError(409, f"{table} already has a row {key_value}")
            row = pl.DataFrame([values]).cast({k: frame.schema[k] for k in values}, strict=False)
            d.tables[table] = pl.concat([frame, row], how="diagonal_relaxed")
            _log(self.sim, table, "insert", key_value, "inserted through the table API")
            d.revision += 1
        return self._answer(request, "INSERT", key_value)

    async def update(self, request: Request) -> Response:
        table = self._table(request)
        key_value = _int_path(request)
        values = self._values(table, await json_body(request))
        d = self.sim.district
        with self.sim.lock:
            key = primary_key(d[table])
            if d[table].filter(pl.col(key) == key_value).height == 0:
                raise HttpError(404, f"No record {key_value} in {table}")
            values.pop(key, None)
            d.tables[table] = _set(d[table], key, key_value, values)
            _log(self.sim, table, "update", key_value, "updated through the table API")
            d.revision += 1
        return self._answer(request, "UPDATE", key_value)

    async def delete(self, request: Request) -> Response:
        table = self._table(request)
        key_value = _int_path(request)
        d = self.sim.district
        with self.sim.lock:
            denied = self.sim.plugin.may_write(table, d[table].columns)
            if denied:
                raise HttpError(
                    403,
                    "Validation Failed",
                    [
                        {"resource": table, "field": f"{table}.{c}", "code": "No write access"}
                        for c in denied
                    ],
                )
            key = primary_key(d[table])
            if d[table].filter(pl.col(key) == key_value).height == 0:
                raise HttpError(404, f"No record {key_value} in {table}")
            d.tables[table] = d[table].filter(pl.col(key) != key_value)
            _log(self.sim, table, "delete", key_value, "deleted through the table API")
            d.revision += 1
        return Response(status_code=204)


def _int_path(request: Request) -> int:
    value = path_id(request.path_params["id"])
    if value is None:
        raise HttpError(404, f"Not Found: {request.url.path}")
    return value


def routes(sim: Simulator, r: Any) -> list[Route]:
    students = StudentWrites(sim)
    tables = TableWrites(sim)
    return [
        r("/ws/v1/student", students.handle, ("POST",)),
        r("/ws/schema/table/{table}", tables.insert, ("POST",)),
        r("/ws/schema/table/{table}/{id}", tables.update, ("PUT",)),
        r("/ws/schema/table/{table}/{id}", tables.delete, ("DELETE",)),
        *_xte.routes(sim, r),
    ]
