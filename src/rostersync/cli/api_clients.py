"""`rostersync api-clients …`: issue, list and revoke the OneRoster API clients of a district."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from rostersync.cli._app import console, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import SCOPES, ApiClient, ApiClients
from rostersync.export.oneroster.sharing import GRANTS, SENSITIVE, SharingRules
from rostersync.store.schema import roster_tables


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.replace(" ", ",").split(",") if v.strip()]


def parse_expiry(text: str | None) -> datetime | None:
    """``--expires``: a date (the client is refused from 00:00 UTC that day) or an ISO time."""
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
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def granted_sensitive(client: ApiClient) -> list[str]:
    """The sensitive data categories a client is granted (every one for legacy rules)."""
    return [c for c in SENSITIVE if client.sharing.sensitive_granted(c)]


def _describe(client: ApiClient) -> dict[str, object]:
    return {
        "name": client.name,
        "client_id": client.client_id,
        "district_id": client.district_id,
        "scopes": sorted(client.scopes),
        "sensitive": granted_sensitive(client),
        "sharing": client.sharing.to_json(),
        "created_at": client.created_at.isoformat(),
        "expires_at": client.expires_at.isoformat() if client.expires_at else None,
        "expired": client.expired(),
        "revoked": client.revoked,
    }


def _print_summary(client: ApiClient) -> None:
    rules = client.sharing.to_json()
    sensitive = granted_sensitive(client)
    console.print(f"  client_id:  {client.client_id}")
    console.print(f"  scopes:     {' '.join(sorted(client.scopes))}")
    console.print(f"  schools:    {', '.join(rules['schools'] or ['all'])}")
    console.print(f"  entities:   {', '.join(rules['entities'] or ['all'])}")
    for entity, names in rules["fields"].items():
        console.print(f"  fields:     {entity}: {', '.join(names)} (+ those OneRoster requires)")
    console.print(
        f"  sensitive:  {', '.join(sensitive) if sensitive else 'none (roster core only)'}"
    )
    expiry = "never"
    if client.expires_at is not None:
        expiry = client.expires_at.isoformat(timespec="seconds")
        expiry += " (expired)" if client.expired() else ""
    console.print(f"  expires:    {expiry}")
    if client.revoked:
        console.print("  revoked:    yes")


def _check_schools(engine: Engine, district_id: int, schools: frozenset[str]) -> None:
    """Every granted school must be a school of the district's published roster (if any)."""
    orgs = roster_tables["orgs"]
    with engine.connect() as conn:
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


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="API clients of the OneRoster provider (downstream apps).", no_args_is_help=True
    )
    app.add_typer(group, name="api-clients")

    @group.command("create")
    def create(
        district: Annotated[str, typer.Option("--district", help="District id, name or slug.")],
        name: Annotated[str, typer.Option("--name", help="The app's name, unique per district.")],
        scopes: Annotated[
            list[str],
            typer.Option(
                "--scopes", help=f"Scopes to grant (comma-separated): {', '.join(SCOPES)}."
            ),
        ],
        schools: Annotated[
            list[str] | None,
            typer.Option("--schools", help="Only these schools (sourcedIds). Default: all."),
        ] = None,
        entities: Annotated[
            list[str] | None,
            typer.Option("--entities", help=f"Only these entity types: {', '.join(GRANTS)}."),
        ] = None,
        fields: Annotated[
            list[str] | None,
            typer.Option(
                "--fields",
                help="Only these optional fields of an entity, as entity.field (e.g. "
                "users.email); fields OneRoster 1.1 or 1.2 requires (users' roles, orgs, "
                "names…) are always kept. Entities not named keep every field.",
            ),
        ] = None,
        grant: Annotated[
            list[str] | None,
            typer.Option(
                "--grant",
                help="Sensitive data to share (comma-separated), none by default: "
                + "; ".join(f"{k} — {v}" for k, v in SENSITIVE.items())
                + "; or all.",
            ),
        ] = None,
        expires: Annotated[
            str | None,
            typer.Option(
                "--expires",
                help="Expiry: YYYY-MM-DD (refused from 00:00 UTC that day) or an ISO 8601 "
                "time. Default: never.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Issue credentials for an app; the secret is shown once and stored only hashed.

        A new client sees the roster core only: sensitive data needs --grant."""
        expires_at = parse_expiry(expires)
        rules = SharingRules.build(
            schools=_split(schools),
            entities=_split(entities),
            fields=_split(fields),
            sensitive=_split(grant) or (),
        )
        store = cli_store()
        try:
            the_district = store.get_district(district)
            if rules.schools is not None:
                _check_schools(store.engine, the_district.id, rules.schools)
            clients = ApiClients(store.engine, get_settings().get_secret_key())
            issued = clients.create(the_district.id, name, _split(scopes) or [], rules, expires_at)
            store.audit(
                "cli",
                "api_client.create",
                the_district.id,
                name=name,
                client_id=issued.client.client_id,
                scopes=sorted(issued.client.scopes),
                sharing=rules.to_json(),
                expires_at=expires_at.isoformat() if expires_at else None,
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps({**_describe(issued.client), "client_secret": issued.client_secret}))
            return
        console.print(f"API client {name!r} for district {the_district.name}")
        _print_summary(issued.client)
        console.print(f"  client_secret: {issued.client_secret}")
        console.print("The secret is shown only now; store it in the app's configuration.")

    @group.command("list")
    def list_(
        district: Annotated[str, typer.Option("--district", help="District id, name or slug.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List a district's API clients (never their secrets)."""
        store = cli_store()
        try:
            the_district = store.get_district(district)
            rows = ApiClients(store.engine, get_settings().get_secret_key()).list(the_district.id)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps([_describe(c) for c in rows], indent=2))
            return
        table = Table(
            "name", "client_id", "scopes", "schools", "entities", "sensitive", "expires", "revoked"
        )
        for c in rows:
            rules = c.sharing.to_json()
            expiry = c.expires_at.strftime("%Y-%m-%d %H:%M UTC") if c.expires_at else "never"
            table.add_row(
                c.name,
                c.client_id,
                " ".join(sorted(c.scopes)),
                ", ".join(rules["schools"] or ["all"]),
                ", ".join(rules["entities"] or ["all"]),
                ", ".join(granted_sensitive(c)) or "none",
                expiry + (" (expired)" if c.expired() else ""),
                "yes" if c.revoked else "",
            )
        console.print(table)

    @group.command("show")
    def show(
        district: Annotated[str, typer.Option("--district", help="District id, name or slug.")],
        client: Annotated[str, typer.Argument(help="The client's name or client_id.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Show what a client may see: scopes, schools, entities, fields, sensitive data, expiry."""
        store = cli_store()
        try:
            the_district = store.get_district(district)
            found = ApiClients(store.engine, get_settings().get_secret_key()).find(
                the_district.id, client
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(_describe(found), indent=2))
            return
        console.print(f"API client {found.name!r} for district {the_district.name}")
        _print_summary(found)

    @group.command("revoke")
    def revoke(
        district: Annotated[str, typer.Option("--district", help="District id, name or slug.")],
        client: Annotated[str, typer.Argument(help="The client's name or client_id.")],
    ) -> None:
        """Revoke a client: its secret and its tokens stop working at once."""
        store = cli_store()
        try:
            the_district = store.get_district(district)
            clients = ApiClients(store.engine, get_settings().get_secret_key())
            found = clients.find(the_district.id, client)
            clients.revoke(found.client_id)
            store.audit("cli", "api_client.revoke", the_district.id, client_id=found.client_id)
        finally:
            store.dispose()
        console.print(f"revoked API client {found.name!r} ({found.client_id})")
