"""`rostersync api-clients …`: issue, list, show and revoke the OneRoster API clients of a
district (through :mod:`rostersync.manage`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync import manage
from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.export.oneroster.clients import SCOPES
from rostersync.export.oneroster.sharing import GRANTS, SENSITIVE

DistrictOpt = Annotated[str, typer.Option("--district", help="District id, name or slug.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.replace(" ", ",").split(",") if v.strip()]


def _print_summary(summary: manage.ApiClientSummary) -> None:
    client = summary.client
    rules = client.sharing.to_json()
    console.print(f"  client_id:  {client.client_id}")
    console.print(f"  scopes:     {' '.join(sorted(client.scopes))}")
    console.print(f"  schools:    {', '.join(rules['schools'] or ['all'])}")
    console.print(f"  entities:   {', '.join(rules['entities'] or ['all'])}")
    for entity, names in rules["fields"].items():
        console.print(f"  fields:     {entity}: {', '.join(names)} (+ those OneRoster requires)")
    granted = summary.sensitive
    console.print(f"  sensitive:  {', '.join(granted) if granted else 'none (roster core only)'}")
    expiry = "never"
    if client.expires_at is not None:
        expiry = client.expires_at.isoformat(timespec="seconds")
        expiry += " (expired)" if client.expired() else ""
    console.print(f"  expires:    {expiry}")
    if client.revoked:
        console.print("  revoked:    yes")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="API clients of the OneRoster provider (downstream apps).", no_args_is_help=True
    )
    app.add_typer(group, name="api-clients")

    @group.command("create")
    def create(
        district: DistrictOpt,
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
        as_json: JsonOpt = False,
    ) -> None:
        """Issue credentials for an app; the secret is shown once and stored only hashed.

        A new client sees the roster core only: sensitive data needs --grant."""
        expires_at = manage.parse_expiry(expires)
        store = cli_store()
        try:
            issued = manage.create_api_client(
                store,
                get_actor(),
                get_settings().get_secret_key(),
                district,
                name,
                _split(scopes) or [],
                schools=_split(schools),
                entities=_split(entities),
                fields=_split(fields),
                grant=_split(grant) or (),
                expires_at=expires_at,
            )
            the_district = store.get_district(issued.client.district_id)
        finally:
            store.dispose()
        summary = manage.ApiClientSummary(issued.client)
        if as_json:
            print(json.dumps({**summary.as_dict(), "client_secret": issued.client_secret}))
            return
        console.print(f"API client {name!r} for district {the_district.name}")
        _print_summary(summary)
        console.print(f"  client_secret: {issued.client_secret}")
        console.print("The secret is shown only now; store it in the app's configuration.")

    @group.command("list")
    def list_(district: DistrictOpt, as_json: JsonOpt = False) -> None:
        """List a district's API clients with what each may see (never their secrets)."""
        store = cli_store()
        try:
            rows = manage.list_api_clients(store, get_settings().get_secret_key(), district)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps([s.as_dict() for s in rows], indent=2))
            return
        table = Table(
            "name", "client_id", "scopes", "schools", "entities", "sensitive", "expires", "revoked"
        )
        for s in rows:
            c = s.client
            rules = c.sharing.to_json()
            expiry = c.expires_at.strftime("%Y-%m-%d %H:%M UTC") if c.expires_at else "never"
            table.add_row(
                c.name,
                c.client_id,
                " ".join(sorted(c.scopes)),
                ", ".join(rules["schools"] or ["all"]),
                ", ".join(rules["entities"] or ["all"]),
                ", ".join(s.sensitive) or "none",
                expiry + (" (expired)" if c.expired() else ""),
                "yes" if c.revoked else "",
            )
        console.print(table)

    @group.command("show")
    def show(
        district: DistrictOpt,
        client: Annotated[str, typer.Argument(help="The client's name or client_id.")],
        as_json: JsonOpt = False,
    ) -> None:
        """Show what a client may see: scopes, schools, entities, fields, sensitive data, expiry."""
        store = cli_store()
        try:
            summary = manage.show_api_client(
                store, get_settings().get_secret_key(), district, client
            )
            the_district = store.get_district(summary.client.district_id)
        finally:
            store.dispose()
        if as_json:
            print(json.dumps(summary.as_dict(), indent=2))
            return
        console.print(f"API client {summary.client.name!r} for district {the_district.name}")
        _print_summary(summary)

    @group.command("revoke")
    def revoke(
        district: DistrictOpt,
        client: Annotated[str, typer.Argument(help="The client's name or client_id.")],
    ) -> None:
        """Revoke a client: its secret and its tokens stop working at once."""
        store = cli_store()
        try:
            found = manage.revoke_api_client(
                store, get_actor(), get_settings().get_secret_key(), district, client
            )
        finally:
            store.dispose()
        console.print(f"revoked API client {found.name!r} ({found.client_id})")
