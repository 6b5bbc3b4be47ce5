"""``/api/v1/districts/{district}/clients``: OneRoster API clients (create, list, show, revoke)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rostersync import manage
from rostersync.errors import ConfigurationError
from rostersync.web.api_v1._core import (
    ApiError,
    ApiRoute,
    CallerDep,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import ApiClientCreate, ApiClientIssued, ApiClientOut

router = APIRouter(route_class=ApiRoute, tags=["api clients"])
BASE = "/districts/{district}/clients"


def _find(request: Request, district_id: int, client: str) -> manage.ApiClientSummary:
    """A client of the district by name or client ID; 404 when there is none."""
    key = settings_of(request).get_secret_key()
    try:
        return manage.show_api_client(store_of(request), key, district_id, client)
    except ConfigurationError as exc:  # the district is resolved: the client is unknown
        raise ApiError(404, "not_found", f"No API client {client!r} in this district") from exc


def _out(summary: manage.ApiClientSummary) -> ApiClientOut:
    return ApiClientOut.model_validate(summary.as_dict())


@router.get(BASE, response_model=list[ApiClientOut])
def list_clients(request: Request, caller: CallerDep, district: str) -> list[ApiClientOut]:
    d = district_for(store_of(request), caller, district, "read")
    key = settings_of(request).get_secret_key()
    return [_out(s) for s in manage.list_api_clients(store_of(request), key, d.id)]


@router.post(BASE, response_model=ApiClientIssued, status_code=201)
def create_client(
    request: Request, caller: CallerDep, district: str, body: ApiClientCreate
) -> ApiClientIssued:
    """Issue a client: roster core only unless sensitive categories are granted. Its secret is
    in this answer only."""
    d = district_for(store_of(request), caller, district, "write")
    issued = manage.create_api_client(
        store_of(request),
        caller.actor,
        settings_of(request).get_secret_key(),
        d.id,
        body.name,
        body.scopes,
        schools=body.schools,
        entities=body.entities,
        fields=body.fields,
        grant=body.grant,
        expires_at=manage.parse_expiry(body.expires),
    )
    shown = manage.ApiClientSummary(issued.client).as_dict()
    return ApiClientIssued.model_validate({**shown, "client_secret": issued.client_secret})


@router.get(BASE + "/{client}", response_model=ApiClientOut)
def show_client(request: Request, caller: CallerDep, district: str, client: str) -> ApiClientOut:
    """A client by name or client ID."""
    d = district_for(store_of(request), caller, district, "read")
    return _out(_find(request, d.id, client))


@router.post(BASE + "/{client}/revoke", response_model=ApiClientOut)
def revoke_client(request: Request, caller: CallerDep, district: str, client: str) -> ApiClientOut:
    """Revoke a client: its secret and tokens stop working at once."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    found = _find(request, d.id, client)
    key = settings_of(request).get_secret_key()
    manage.revoke_api_client(store, caller.actor, key, d.id, found.client.client_id)
    return _out(_find(request, d.id, found.client.client_id))
