"""Contacts module REST (`/ws/contacts`): a student's contacts and one contact, camelCase JSON.

`GET /ws/contacts/student/{studentdcid}` is a top-level JSON array (204 when the student has no
contacts); `GET /ws/contacts/contact/{id}` is one contact. Read from the same Contacts-module
tables the table API serves, so the two views always agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._http import HttpError, json_response, path_id

if TYPE_CHECKING:
    from .app import Simulator

Row = dict[str, Any]


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


class Contacts:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _contacts(self, person_ids: list[int]) -> list[Row]:
        d = self.sim.district
        codes = dict(
            zip(d["codeset"]["codesetid"].to_list(), d["codeset"]["code"].to_list(), strict=True)
        )
        persons = d["person"].filter(pl.col("id").is_in(person_ids)).sort("id")
        emails = (
            d["personemailaddressassoc"]
            .filter(pl.col("personid").is_in(person_ids))
            .join(d["emailaddress"], on="emailaddressid")
        )
        phones = (
            d["personphonenumberassoc"]
            .filter(pl.col("personid").is_in(person_ids))
            .join(d["phonenumber"], on="phonenumberid")
        )
        links = (
            d["studentcontactassoc"]
            .filter(pl.col("personid").is_in(person_ids))
            .join(d["studentcontactdetail"], on="studentcontactassocid")
            .join(
                d["students"].select(pl.col("dcid").alias("studentdcid"), "student_number"),
                on="studentdcid",
            )
            .sort("studentdcid")
        )
        out = []
        for p in persons.to_dicts():
            pid = p["id"]
            students = []
            for link in links.filter(pl.col("personid") == pid).to_dicts():
                students.append(
                    {
                        "dcid": link["studentdcid"],
                        "studentNumber": str(link["student_number"]),
                        "studentDetails": [
                            {
                                "relationship": codes.get(link["relationshiptypecodesetid"], ""),
                                "custodial": bool(link["iscustodial"]),
                                "emergency": bool(link["isemergency"]),
                                "livesWith": bool(link["liveswithflg"]),
                                "schoolPickup": bool(link["schoolpickupflg"]),
                                "receivesMail": bool(link["receivesmailflg"]),
                                "active": bool(link["isactive"]),
                                "startDate": _iso(link["startdate"]),
                                "endDate": _iso(link["enddate"]),
                            }
                        ],
                    }
                )
            out.append(
                {
                    "contactId": pid,
                    "firstName": p["firstname"],
                    "middleName": p["middlename"],
                    "lastName": p["lastname"],
                    "active": bool(p["isactive"]),
                    "emails": [
                        {"address": e["emailaddress"], "primary": bool(e["isprimaryemailaddress"])}
                        for e in emails.filter(pl.col("personid") == pid).to_dicts()
                    ],
                    "phones": [
                        {
                            "phoneNumber": ph["phonenumber"],
                            "phoneType": codes.get(ph["phonetypecodesetid"], ""),
                        }
                        for ph in phones.filter(pl.col("personid") == pid).to_dicts()
                    ],
                    "addresses": [],
                    "contactStudents": students,
                }
            )
        return out

    async def of_student(self, request: Request) -> Response:
        dcid = _int(request, "dcid")
        d = self.sim.district
        if d["students"].filter(pl.col("dcid") == dcid).height == 0:
            raise HttpError(404, f"Student {dcid} not found")
        ids = d["studentcontactassoc"].filter(pl.col("studentdcid") == dcid)["personid"]
        if ids.len() == 0:
            return Response(status_code=204)
        return json_response(self._contacts(ids.to_list()))

    async def contact(self, request: Request) -> Response:
        found = self._contacts([_int(request, "id")])
        if not found:
            raise HttpError(404, f"Contact {request.path_params['id']} not found")
        return json_response(found[0])


def _int(request: Request, name: str) -> int:
    value = path_id(request.path_params[name])
    if value is None:
        raise HttpError(404, f"Not Found: {request.url.path}")
    return value


def routes(sim: Simulator, r: Any) -> list[Route]:
    contacts = Contacts(sim)
    return [
        r("/ws/contacts/student/{dcid}", contacts.of_student),
        r("/ws/contacts/contact/{id}", contacts.contact),
    ]
