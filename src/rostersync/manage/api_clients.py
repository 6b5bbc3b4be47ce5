"""API clients of the OneRoster provider: issue (private by default), list, show, revoke.

A new client sees the roster core only; sensitive categories (:data:`SENSITIVE`) are granted by
name, and a client may carry an expiry date. Every change is audited (never the secret).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rostersync.clock import as_utc
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import ApiClient, ApiClients, IssuedClient
from rostersync.export.oneroster.sharing import SENSITIVE, SharingRules
from rostersync.store import Store
from rostersync.store.schema import roster_tables


def parse_expiry(text: str | None) -> datetime | None:
    """An expiry as an admin types it: a date (refused from 00:00 UTC that day) or an ISO time."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"--expires: {text!r} is not a date",
            setting="--expires",
            hint="write YYYY-MM-DD (refused from 00:00 UTC that day) or an ISO 8601 time",
        ) from None
    return as_utc(moment)


@dataclass(frozen=True)
class ApiClientSummary:
    """What a client may see, as shown to admins (never its secret)."""

    client: ApiClient

    @property
    def sensitive(self) -> list[str]:
        """The sensitive categories granted (every one for rules stored before categories)."""
        return [c for c in SENSITIVE if self.client.sharing.sensitive_granted(c)]

    def as_dict(self) -> dict[str, Any]:
        c = self.client
        return {
            "name": c.name,
            "client_id": c.client_id,
            "district_id": c.district_id,
            "scopes": sorted(c.scopes),
            "sensitive": self.sensitive,
            "sharing": c.sharing.to_json(),
            "created_at": c.created_at.isoformat(),
            "expires_at": c.expires_at.isoformat() if c.expires_at else None,
            "expired": c.expired(),
            "revoked": c.revoked,
        }


def _check_schools(store: Store, district_id: int, schools: frozenset[str]) -> None:
    """Every granted school must be a school of the district's published roster (if any)."""
    orgs = roster_tables["orgs"]
    with store.engine.connect() as conn:
        known = set(
            conn.scalars(
                sa.select(orgs.c.sourcedId).where(
                    orgs.c.district_id == district_id,
                    orgs.c.valid_to.is_(None),
                    orgs.c.type == "school",
                )
            )
        )
    unknown = sorted(schools - known)
    if known and unknown:
        raise ConfigurationError(
            f"--schools: {', '.join(unknown)} is not a school of the published roster",
            setting="--schools",
            hint="use the schools' sourcedIds, e.g. from GET /ims/oneroster/rostering/v1p2/schools",
        )


def create_api_client(
    store: Store,
    actor: str,
    secret_key: str,
    district: str | int,
    name: str,
    scopes: Iterable[str],
    *,
    schools: Iterable[str] | None = None,
    entities: Iterable[str] | None = None,
    fields: Iterable[str] | None = None,
    grant: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> IssuedClient:
    """Issue a client (its secret is in the result only); sensitive data only as granted."""
    rules = SharingRules.build(schools=schools, entities=entities, fields=fields, sensitive=grant)
    d = store.get_district(district)
    if rules.schools is not None:
        _check_schools(store, d.id, rules.schools)
    issued = ApiClients(store.engine, secret_key).create(d.id, name, scopes, rules, expires_at)
    store.audit(
        actor,
        "api_client.create",
        d.id,
        name=name,
        client_id=issued.client.client_id,
        scopes=sorted(issued.client.scopes),
        sharing=rules.to_json(),
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return issued


def list_api_clients(store: Store, secret_key: str, district: str | int) -> list[ApiClientSummary]:
    d = store.get_district(district)
    return [ApiClientSummary(c) for c in ApiClients(store.engine, secret_key).list(d.id)]


def show_api_client(
    store: Store, secret_key: str, district: str | int, client: str
) -> ApiClientSummary:
    """A district's client by name or client ID."""
    d = store.get_district(district)
    return ApiClientSummary(ApiClients(store.engine, secret_key).find(d.id, client))


def revoke_api_client(
    store: Store, actor: str, secret_key: str, district: str | int, client: str
) -> ApiClient:
    """Revoke a client: its secret and tokens stop working at once."""
    d = store.get_district(district)
    clients = ApiClients(store.engine, secret_key)
    found = clients.find(d.id, client)
    clients.revoke(found.client_id)
    store.audit(actor, "api_client.revoke", d.id, client_id=found.client_id)
    return found
