"""``/api/v1/admins`` and ``/api/v1/installation``: admin accounts (create, list, grant, revoke,
reset password) and the secret store's key rotation — operators only.

The routes call the same account and secret-store functions as ``rostersync admins …`` and
``rostersync secrets rotate-key``; passwords go in request bodies only and are never returned,
logged or audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from rostersync.admin.accounts import MAX_PASSWORD, Account, Accounts
from rostersync.admin.errors import PermissionDenied
from rostersync.admin.secrets import SecretStore
from rostersync.errors import ConfigurationError
from rostersync.store import Store
from rostersync.web.api_v1._core import (
    ApiError,
    ApiRoute,
    Caller,
    CallerDep,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import Model

router = APIRouter(route_class=ApiRoute)
AdminName = Annotated[str, Path(min_length=1, max_length=100, description="an account's name")]
DistrictKey = Annotated[str, Path(min_length=1, max_length=200, description="id, name or slug")]


class AdminOut(Model):
    name: str
    role: str
    districts: list[int]
    totp: bool
    created_at: datetime | None


class AdminCreate(Model):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(description="operator, district_admin or viewer")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD, description="never returned")
    districts: list[str] = Field(
        default_factory=list, max_length=1000, description="districts granted (id, name, slug)"
    )


class PasswordReset(Model):
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class GrantOut(Model):
    name: str
    district_id: int
    changed: bool


class KeyRotated(Model):
    reencrypted: int


def _operator(caller: Caller) -> None:
    if caller.account.role != "operator":
        raise PermissionDenied(
            f"{caller.account.name} ({caller.account.role}) may not manage admin accounts",
            hint="ask an operator",
        )


def _out(account: Account) -> AdminOut:
    return AdminOut(
        name=account.name,
        role=account.role,
        districts=sorted(account.districts),
        totp=account.totp,
        created_at=account.created_at,
    )


def _accounts(request: Request) -> Accounts:
    return Accounts(store_of(request), settings_of(request))


def _existing(accounts: Accounts, name: str) -> Account:
    found = accounts.find(name)
    if found is None:
        raise ApiError(
            404, "not_found", f"No admin account {name!r}", hint="see GET /api/v1/admins"
        )
    return found


def _district_id(store: Store, key: str) -> int:
    try:
        return store.get_district(key).id
    except ConfigurationError:
        raise ApiError(
            404, "not_found", f"No district {key!r}", hint="see GET /api/v1/districts"
        ) from None


@router.get("/admins", response_model=list[AdminOut], tags=["admins"])
def list_admins(request: Request, caller: CallerDep) -> list[AdminOut]:
    """Every admin account, its role and granted districts (never passwords)."""
    _operator(caller)
    return [_out(a) for a in _accounts(request).list_accounts()]


@router.post("/admins", response_model=AdminOut, status_code=201, tags=["admins"])
def create_admin(request: Request, caller: CallerDep, body: AdminCreate) -> AdminOut:
    """Create an admin account (an operator grants no districts: it manages all)."""
    _operator(caller)
    if body.role == "operator" and body.districts:
        raise ApiError(422, "invalid_input", "districts: operators manage every district")
    ids = [_district_id(store_of(request), d) for d in body.districts]
    account = _accounts(request).create(
        body.name, body.role, body.password, actor=caller.actor, districts_granted=ids
    )
    return _out(account)


@router.get("/admins/{name}", response_model=AdminOut, tags=["admins"])
def show_admin(request: Request, caller: CallerDep, name: AdminName) -> AdminOut:
    _operator(caller)
    return _out(_existing(_accounts(request), name))


@router.put("/admins/{name}/districts/{district}", response_model=GrantOut, tags=["admins"])
def grant(request: Request, caller: CallerDep, name: AdminName, district: DistrictKey) -> GrantOut:
    """Let a district admin or viewer manage (or see) one more district."""
    _operator(caller)
    accounts = _accounts(request)
    _existing(accounts, name)
    district_id = _district_id(store_of(request), district)
    added = accounts.grant(name, district_id, actor=caller.actor)
    return GrantOut(name=name, district_id=district_id, changed=added)


@router.delete("/admins/{name}/districts/{district}", response_model=GrantOut, tags=["admins"])
def revoke(request: Request, caller: CallerDep, name: AdminName, district: DistrictKey) -> GrantOut:
    """Take a district away from an account (404 when it did not have it)."""
    _operator(caller)
    accounts = _accounts(request)
    _existing(accounts, name)
    district_id = _district_id(store_of(request), district)
    if not accounts.revoke(name, district_id, actor=caller.actor):
        raise ApiError(404, "not_found", f"{name} has no grant for district {district!r}")
    return GrantOut(name=name, district_id=district_id, changed=True)


@router.post("/admins/{name}/password", status_code=204, response_class=Response, tags=["admins"])
def reset_password(
    request: Request, caller: CallerDep, name: AdminName, body: PasswordReset
) -> Response:
    """Set a new password; the old one stops working at once."""
    _operator(caller)
    accounts = _accounts(request)
    _existing(accounts, name)
    accounts.reset_password(name, body.password, actor=caller.actor)
    return Response(status_code=204)


@router.post("/installation/secret-key/rotate", response_model=KeyRotated, tags=["installation"])
def rotate_key(request: Request, caller: CallerDep) -> Any:
    """Re-encrypt every stored secret and TOTP seed under a new key, in one transaction."""
    _operator(caller)
    count = SecretStore(store_of(request), settings_of(request)).rotate_key(actor=caller.actor)
    return KeyRotated(reencrypted=count)
