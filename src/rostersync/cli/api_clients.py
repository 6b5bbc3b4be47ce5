"""`rostersync api-clients …`: issue, list and revoke the OneRoster API clients of a district."""

from __future__ import annotations

import json
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import SCOPES, ApiClient, ApiClients
from rostersync.export.oneroster.sharing import GRANTS, SharingRules
from rostersync.store.schema import roster_tables


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.replace(" ", ",").split(",") if v.strip()]


def _describe(client: ApiClient) -> dict[str, object]:
    return {
        "name": client.name,
        "client_id": client.client_id,
        "district_id": client.district_id,
        "scopes": sorted(client.scopes),
        "sharing": client.sharing.to_json(),
        "created_at": client.created_at.isoformat(),
        "revoked": client.revoked,
    }


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
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """Issue credentials for an app; the secret is shown once and stored only hashed."""
        rules = SharingRules.build(
            schools=_split(schools), entities=_split(entities), fields=_split(fields)
        )
        store = cli_store()
        try:
            the_district = store.get_district(district)
            if rules.schools is not None:
                _check_schools(store.engine, the_district.id, rules.schools)
            clients = ApiClients(store.engine, get_settings().get_secret_key())
            issued = clients.create(the_district.id, name, _split(scopes) or [], rules)
            store.audit(
                get_actor(),
                "api_client.create",
                the_district.id,
                name=name,
                client_id=issued.client.client_id,
                scopes=sorted(issued.client.scopes),
                sharing=rules.to_json(),
            )
        finally:
            store.dispose()
        if as_json:
            print(json.dumps({**_describe(issued.client), "client_secret": issued.client_secret}))
            return
        console.print(f"API client {name!r} for district {the_district.name}")
        console.print(f"  client_id:     {issued.client.client_id}")
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
        table = Table("name", "client_id", "scopes", "schools", "entities", "revoked")
        for c in rows:
            rules = c.sharing.to_json()
            table.add_row(
                c.name,
                c.client_id,
                " ".join(sorted(c.scopes)),
                ", ".join(rules["schools"] or ["all"]),
                ", ".join(rules["entities"] or ["all"]),
                "yes" if c.revoked else "",
            )
        console.print(table)

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
            store.audit(
                get_actor(), "api_client.revoke", the_district.id, client_id=found.client_id
            )
        finally:
            store.dispose()
        console.print(f"revoked API client {found.name!r} ({found.client_id})")
