"""`rostersync demo --multi-source`: a second demo district fed by three sources, merged.

Data from multiple sources, master fields: the PowerSchool simulator (the SIS), a throwaway
``slapd`` holding the district's directory accounts (``ldap`` source, bind password in the
encrypted secret store as ``store:directory-bind``) and a OneRoster CSV package from the family
messaging system. The three share people: their records are matched on the SIS number (the
common domain of uniqueness ``identifier``), each keeps its own SIS prefix, and master fields
give the directory the login and email and the messaging system the mobile numbers. The
summary shows, for a few students and teachers, which source won each attribute.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from rich.console import Console

from rostersync.admin.secrets import SecretStore
from rostersync.cli._app import get_actor
from rostersync.cli.demo_sources import (
    STAFF_OU,
    STUDENTS_OU,
    SUFFIX,
    directory_entries,
    write_messaging_package,
)
from rostersync.cli.sync import ProgressView, locked_sync, print_outcome
from rostersync.config import load_config
from rostersync.settings import Settings
from rostersync.simulators.directory import find_slapd, running_directory
from rostersync.store import open_store
from rostersync.sync import SyncOutcome
from rostersync.sync.run import ensure_district

MULTI_DISTRICT = "Rostersync Demo Multi-Source District"
MULTI_CONFIG = "demo-multi-source.yaml"
BIND_SECRET = "directory-bind"  # noqa: S105 - the secret's name, not a secret
PEOPLE_DOMAIN = {"student": ["identifier"], "teacher": ["identifier"]}
#: Per record type, the attributes whose winning source the summary shows.
SHOWN_ATTRIBUTES = ("givenName", "familyName", "username", "email", "phone", "sms")


def multi_config(
    sis_url: str, client_id: str, directory_url: str, reader_dn: str, package: Path
) -> dict[str, Any]:
    """The three sources, their SIS prefixes and common domain, and master fields."""
    return {
        "district": MULTI_DISTRICT,
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": sis_url,
                    "client_id": client_id,
                    "client_secret": "file:demo-client-secret",
                },
                "connector": {"concurrency": 8},
                "advanced": {"multiple_sources": True, "sis_prefix": "ps-"},
                "filter_rules": {"student": [{"template": "exclude_pre_registered"}]},
                "uniqueness_domains": PEOPLE_DOMAIN,
            },
            {
                "name": "directory",
                "app": "ldap",
                "delivery": {
                    "url": directory_url,
                    "client_id": reader_dn,
                    "client_secret": f"store:{BIND_SECRET}",
                },
                "connector": {
                    "directory": "active_directory",
                    "students": {"base_dn": STUDENTS_OU},
                    "staff": {"base_dn": STAFF_OU},
                },
                "advanced": {"multiple_sources": True, "sis_prefix": "ad-"},
                "uniqueness_domains": PEOPLE_DOMAIN,
            },
            {
                "name": "messaging",
                "app": "oneroster_csv",
                "connector": {"path": str(package)},
                "advanced": {"multiple_sources": True, "sis_prefix": "msg-"},
                "uniqueness_domains": PEOPLE_DOMAIN,
            },
        ],
        "master_fields": {
            "student": {
                "username": ["directory", "sis"],
                "email": ["directory", "sis"],
                "phone": ["messaging", "sis"],
                "sms": ["messaging"],
            },
            "teacher": {"username": ["directory", "sis"], "email": ["directory", "sis"]},
        },
    }


def provenance(outcome: SyncOutcome, per_role: int = 2) -> pl.DataFrame:
    """For a few merged records of each role: attribute, winning source and why (report files)."""
    files = outcome.report.get("files")
    users = Path(files) / "users.csv" if files else None
    if users is None or not users.is_file():
        return pl.DataFrame(schema=dict.fromkeys(("sourcedId", "attribute", "source", "detail")))
    won = pl.read_csv(users, infer_schema=False).filter(
        (pl.col("stage") == "master_fields") & (pl.col("action") == "won")
    )
    won = won.with_columns(pl.col("reason").str.strip_prefix("attribute ").alias("attribute"))
    records = (
        won.filter(pl.col("source") != "sis")
        .select("sourcedId")
        .unique(maintain_order=True)
        .sort("sourcedId")
    )
    chosen = pl.concat(
        [
            records.filter(pl.col("sourcedId").str.starts_with(f"ps-{kind}-")).head(per_role)
            for kind in ("student", "staff")
        ]
    )
    return (
        won.join(chosen, on="sourcedId", how="semi")
        .filter(pl.col("attribute").is_in(list(SHOWN_ATTRIBUTES)))
        .select("sourcedId", "attribute", "source", "detail")
        .sort("sourcedId", "attribute")
    )


def print_provenance(out: Console, outcome: SyncOutcome) -> None:
    """One line per record: each attribute and the source that won it (``*``: a fallback, the
    preferred source had no value)."""
    rows = provenance(outcome)
    out.print("[bold]Which source won each attribute[/bold] (a few merged records)")
    cells = rows.with_columns(
        pl.when(pl.col("detail").str.starts_with("fallback"))
        .then(pl.col("source") + "*")
        .otherwise(pl.col("source"))
        .alias("cell")
    )
    for (sourced_id,), part in cells.partition_by("sourcedId", as_dict=True).items():
        won = dict(zip(part["attribute"], part["cell"], strict=True))
        line = ", ".join(f"{a} {won[a]}" for a in SHOWN_ATTRIBUTES if a in won)
        out.print(f"  {sourced_id}: {line}", highlight=False)
    out.print("  (* a fallback: the preferred source has no value)", highlight=False)


def print_next_steps(out: Console, outcome: SyncOutcome, path: Path) -> None:
    """Where to look next: the report files, the run, the configuration, the versions."""
    out.print("[bold]Where to look next[/bold]")
    files = outcome.report.get("files")
    for line in (
        f"report files:   {files} (users.csv: action won, per record and attribute)"
        if files
        else None,
        f"this run:       rostersync runs show {outcome.run_id}",
        f"configuration:  {path}",
        f"versions:       rostersync versions list -d {MULTI_DISTRICT!r}",
    ):
        if line is not None:
            out.print("  " + line, soft_wrap=True, highlight=False)


def run_multi_source(
    out: Console,
    settings: Settings,
    district: Any,
    sis_url: str,
    client_id: str,
    *,
    quiet: bool,
    once: bool,
) -> SyncOutcome:
    """Start the directory, write the package and configuration, store the secret, sync; unless
    ``once``, keep the directory serving (the caller's simulator too) until Ctrl-C."""
    find_slapd()  # a clear message before anything starts when slapd is missing
    data_dir = settings.ensure_data_dir()
    package = write_messaging_package(district, data_dir / "demo-messaging-package")
    with running_directory(SUFFIX, directory_entries(district)) as directory:
        out.print(f"Directory (slapd) serving on {directory.url}")
        body = multi_config(sis_url, client_id, directory.url, directory.reader_dn, package)
        path = data_dir / MULTI_CONFIG
        header = (
            "# Written by `rostersync demo --multi-source`. Sync again while that demo serves:\n"
            f"#   rostersync sync run --config {path}\n"
        )
        path.write_text(header + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        config = load_config(path)
        store = open_store(settings, upgrade=True)
        try:
            district_id = ensure_district(store, config)
            SecretStore(store, settings).put(
                district_id, BIND_SECRET, directory.reader_password, actor=get_actor()
            )
            if quiet:
                outcome = locked_sync(store, config, settings)
            else:
                with ProgressView(out) as view:
                    outcome = locked_sync(store, config, settings, progress=view)
        finally:
            store.dispose()
        print_outcome(out, outcome)
        out.print()
        print_provenance(out, outcome)
        out.print()
        print_next_steps(out, outcome, path)
        if not once:
            out.print(f"  sync again:     rostersync sync run --config {path}", soft_wrap=True)
            out.print("\nThe simulator and the directory keep serving; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                out.print("stopped")
    return outcome
