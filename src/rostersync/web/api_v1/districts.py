"""``/api/v1/districts``: list (scoped to the caller), create and delete (operators), show."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rostersync import manage
from rostersync.web.api_v1._core import (
    ApiRoute,
    CallerDep,
    district_for,
    require_installation,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import (
    DistrictCreate,
    DistrictDeletedOut,
    DistrictOut,
    DistrictSummaryOut,
    Me,
)

router = APIRouter(route_class=ApiRoute, tags=["districts"])


@router.get("/me", response_model=Me, tags=["caller"])
def me(caller: CallerDep) -> Me:
    """The account the token belongs to, its role and granted districts."""
    a = caller.account
    return Me(name=a.name, role=a.role, districts=sorted(a.districts))


@router.get("/districts", response_model=list[DistrictOut])
def list_districts(request: Request, caller: CallerDep) -> list[DistrictOut]:
    """The districts the caller may see."""
    from rostersync.admin import authz

    return [
        DistrictOut(id=d.id, name=d.name, slug=d.slug, created_at=d.created_at)
        for d in manage.list_districts(store_of(request))
        if authz.sees_district(caller.account, d.id)
    ]


@router.post("/districts", response_model=DistrictOut, status_code=201)
def create_district(request: Request, caller: CallerDep, body: DistrictCreate) -> DistrictOut:
    """Create a district (operators)."""
    require_installation(caller, "write")
    d = manage.create_district(store_of(request), caller.actor, body.name)
    return DistrictOut(id=d.id, name=d.name, slug=d.slug, created_at=d.created_at)


@router.get("/districts/{district}", response_model=DistrictSummaryOut)
def show_district(request: Request, caller: CallerDep, district: str) -> DistrictSummaryOut:
    """A district (by id, name or slug) with what it holds."""
    d = district_for(store_of(request), caller, district, "read")
    return DistrictSummaryOut.model_validate(
        manage.show_district(store_of(request), d.id).as_dict()
    )


@router.delete("/districts/{district}", response_model=DistrictDeletedOut)
def delete_district(request: Request, caller: CallerDep, district: str) -> DistrictDeletedOut:
    """Delete a district and purge its roster, runs, reports and secrets (operators)."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    require_installation(caller, "write")
    reports = settings_of(request).data_dir / "reports"
    deleted = manage.delete_district(store, caller.actor, d.id, reports_dir=reports)
    return DistrictDeletedOut.model_validate(deleted.as_dict())
