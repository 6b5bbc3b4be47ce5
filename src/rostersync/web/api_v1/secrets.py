"""``/api/v1/districts/{district}/secrets``: set, list names, delete. Values are never returned."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rostersync.admin.secrets import SecretStore
from rostersync.web.api_v1._core import (
    ApiError,
    ApiRoute,
    CallerDep,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import SecretOut, SecretPut, SecretSet

router = APIRouter(route_class=ApiRoute, tags=["secrets"])
BASE = "/districts/{district}/secrets"


def _secrets(request: Request) -> SecretStore:
    return SecretStore(store_of(request), settings_of(request))


@router.get(BASE, response_model=list[SecretOut])
def list_secrets(request: Request, caller: CallerDep, district: str) -> list[SecretOut]:
    """The district's stored secrets: names and dates only."""
    d = district_for(store_of(request), caller, district, "read")
    return [
        SecretOut(
            district_id=s.district_id, name=s.name, created_at=s.created_at, updated_at=s.updated_at
        )
        for s in _secrets(request).list_secrets(d.id)
    ]


@router.put(BASE + "/{name}", response_model=SecretSet)
def put_secret(
    request: Request, caller: CallerDep, district: str, name: str, body: SecretPut
) -> SecretSet:
    """Store (or replace) a secret, encrypted; configurations refer to it as ``store:NAME``."""
    d = district_for(store_of(request), caller, district, "write")
    replaced = _secrets(request).put(d.id, name, body.value, actor=caller.actor)
    return SecretSet(name=name, replaced=replaced)


@router.delete(BASE + "/{name}", status_code=204, response_class=Response)
def delete_secret(request: Request, caller: CallerDep, district: str, name: str) -> Response:
    d = district_for(store_of(request), caller, district, "write")
    if not _secrets(request).delete(d.id, name, actor=caller.actor):
        raise ApiError(404, "not_found", f"No secret {name!r} in this district")
    return Response(status_code=204)
