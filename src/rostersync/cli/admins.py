"""`rostersync admins …`: admin accounts, roles, district grants and personal API tokens.

Passwords are read from a hidden prompt (or standard input), never from the command line; the
first operator is created with `rostersync admins create NAME --role operator`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from rostersync.admin.accounts import Accounts, check_name, check_role
from rostersync.admin.tokens import Tokens
from rostersync.cli._app import console, get_actor, get_settings
from rostersync.cli.db import cli_store
from rostersync.cli.secrets import read_value
from rostersync.errors import ConfigurationError

DistrictOpt = Annotated[
    str, typer.Option("--district", "-d", help="District id, name or slug.", show_default=False)
]
NameArg = Annotated[str, typer.Argument(help="The admin account's name.")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Admin accounts: roles, district grants, passwords and API tokens.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="admins")

    @group.command("create")
    def create(
        name: NameArg,
        role: Annotated[
            str,
            typer.Option("--role", help="operator, district_admin or viewer.", show_default=False),
        ],
        district: Annotated[
            list[str] | None,
            typer.Option("--district", "-d", help="A district to grant (repeat for several)."),
        ] = None,
        totp: Annotated[
            bool, typer.Option("--totp", help="Require a TOTP code at sign-in (shows its URI).")
        ] = False,
    ) -> None:
        """Create an admin account; the password is read from a prompt or standard input."""
        check_name(name)
        checked = check_role(role)
        if checked == "operator" and district:
            raise ConfigurationError(
                "--district: operators manage every district; grant none", setting="--district"
            )
        store = cli_store()
        try:
            ids = [store.get_district(d).id for d in district or []]
            password = read_value(f"password of {name}")
            accounts = Accounts(store, get_settings())
            account = accounts.create(
                name, checked, password, actor=get_actor(), districts_granted=ids
            )
            uri = accounts.enable_totp(name, actor=get_actor()) if totp else None
        finally:
            store.dispose()
        console.print(f"created admin {account.name} ({account.role})")
        if uri:
            console.print("add this to the authenticator app now (it is not shown again):")
            print(uri)

    @group.command("list")
    def list_(
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    ) -> None:
        """List the admin accounts, their roles and districts (never passwords)."""
        store = cli_store()
        try:
            accounts = Accounts(store, get_settings())
            rows = [(a, accounts.district_names(a)) for a in accounts.list_accounts()]
        finally:
            store.dispose()
        if as_json:
            print(
                json.dumps(
                    [
                        {"name": a.name, "role": a.role, "districts": names, "totp": a.totp}
                        for a, names in rows
                    ],
                    indent=2,
                )
            )
            return
        table = Table("name", "role", "districts", "totp")
        for a, names in rows:
            scope = "(all)" if a.role == "operator" else ", ".join(names) or "(none)"
            table.add_row(a.name, a.role, scope, "yes" if a.totp else "no")
        console.print(table)

    @group.command("grant")
    def grant(name: NameArg, district: DistrictOpt) -> None:
        """Let a district admin or viewer manage (or see) one more district."""
        store = cli_store()
        try:
            d = store.get_district(district)
            added = Accounts(store, get_settings()).grant(name, d.id, actor=get_actor())
        finally:
            store.dispose()
        console.print(f"{name} {'now has' if added else 'already had'} district {d.name}")

    @group.command("revoke")
    def revoke(name: NameArg, district: DistrictOpt) -> None:
        """Take a district away from an account."""
        store = cli_store()
        try:
            d = store.get_district(district)
            gone = Accounts(store, get_settings()).revoke(name, d.id, actor=get_actor())
        finally:
            store.dispose()
        if not gone:
            raise ConfigurationError(f"{name} has no grant for district {d.name}")
        console.print(f"{name} no longer has district {d.name}")

    @group.command("reset-password")
    def reset_password(name: NameArg) -> None:
        """Set a new password, read from a prompt or standard input."""
        store = cli_store()
        try:
            accounts = Accounts(store, get_settings())
            accounts.get(name)
            password = read_value(f"new password of {name}")
            accounts.reset_password(name, password, actor=get_actor())
        finally:
            store.dispose()
        console.print(f"password of {name} changed")

    @group.command("token-create")
    def token_create(
        name: NameArg,
        label: Annotated[str, typer.Option("--name", help="What the token is for.")],
        days: Annotated[int, typer.Option("--days", help="Days until it expires (1–366).")] = 90,
    ) -> None:
        """Create a personal API token; it is printed once and stored only as a hash."""
        store = cli_store()
        try:
            accounts = Accounts(store, get_settings())
            token, token_id = Tokens(store, accounts).create(
                name, label, days=days, actor=get_actor()
            )
        finally:
            store.dispose()
        console.print(f"token {token_id} for {name}, expires in {days} days; copy it now:")
        print(token)

    @group.command("token-list")
    def token_list(
        name: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
    ) -> None:
        """List API tokens (their first characters, never the tokens)."""
        store = cli_store()
        try:
            accounts = Accounts(store, get_settings())
            names = {a.id: a.name for a in accounts.list_accounts()}
            rows = Tokens(store, accounts).list_tokens(name)
        finally:
            store.dispose()
        table = Table("id", "account", "name", "starts", "expires", "state")
        for t in rows:
            state = "revoked" if t.revoked_at else "active"
            table.add_row(
                str(t.id),
                names.get(t.account_id, "?"),
                t.name,
                t.prefix + "…",
                t.expires_at.strftime("%Y-%m-%d"),
                state,
            )
        console.print(table)

    @group.command("token-revoke")
    def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
        """Revoke an API token at once."""
        store = cli_store()
        try:
            Tokens(store, Accounts(store, get_settings())).revoke(token_id, actor=get_actor())
        finally:
            store.dispose()
        console.print(f"token {token_id} revoked")
