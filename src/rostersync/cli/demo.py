"""`rostersync demo`: a simulated PowerSchool district synced end to end, in one command.

It starts the PowerSchool simulator on a small district in a background thread, writes a ready
configuration (``demo.yaml`` in the data directory, reusable with ``sync run --config``),
creates or migrates the store, runs the sync (under the run lock, through the change flow) with
its progress display, then prints the run's outcome, the per-entity summary, the pipeline
report's highlights and where to look next. ``--once`` exits when done (scripts, tests,
``make demo``); without it the simulator keeps serving until Ctrl-C so the admin can sync again.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from rostersync.cli._app import console, get_settings
from rostersync.cli.sync import ProgressView, locked_sync, print_outcome, quiet_http_logs
from rostersync.config import load_config
from rostersync.errors import ConfigurationError
from rostersync.store import open_store
from rostersync.sync import SyncOutcome

DEMO_PORT = 8765
DEMO_CONFIG = "demo.yaml"
DEMO_SECRET = "demo-client-secret"  # noqa: S105 - a file name, not a secret


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def demo_config(url: str, client_id: str, district: str) -> dict[str, object]:
    """The demo district's configuration: one PowerSchool source with a rule in every step.

    Each rule is one a district would really set, chosen so the demo's run report shows every
    kind of outcome on the simulated district's messy data: students without a school email are
    reported, staff without an email are skipped (and listed), students outside grades
    1-12 are filtered out, the child entered twice is merged.
    """
    return {
        "district": district,
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "sync_mode": "import",
                "delivery": {
                    "url": url,
                    "client_id": client_id,
                    "client_secret": f"file:{DEMO_SECRET}",
                },
                "connector": {"concurrency": 8},
                "advanced": {
                    "contact_module": False,
                    "contact_name_rule": {"pattern": "{last}{sep}{first}", "separator": ","},
                    "sync_co_teachers": True,
                },
                "schools_mapping": "auto",
                "attribute_mapping": {
                    "student": {"email": "U_DEF_EXT_STUDENTS.school_email"},
                },
                "data_requirements": {
                    "student": {"email": "report", "grades": "skip"},
                    # an app account needs an email: a staff member without one is left out
                    "teacher": {"email": "skip"},
                    "admin": {"email": "skip"},
                },
                "filter_rules": {
                    "student": [
                        {"template": "exclude_pre_registered"},
                        {"template": "exclude_test_records"},
                        # the apps this district feeds serve grades 1-12
                        {"template": "grade_range", "min_grade": "01", "max_grade": "12"},
                    ],
                    "teacher": [{"template": "teachers_with_class"}],
                    "contact": [{"template": "contacts_of_synced_students"}],
                },
                "uniqueness_domains": {"student": ["givenName", "familyName", "birthDate"]},
            }
        ],
    }


#: The pipeline report's counts worth a line in the demo, in the admin's words.
HIGHLIGHTS: tuple[tuple[str, str], ...] = (
    ("skipped", "skipped (a required attribute missing)"),
    ("reported", "reported (kept, an attribute missing)"),
    ("filtered", "filtered out by filter rules"),
    ("merged", "merged (equal on a uniqueness domain)"),
)


def report_highlights(outcome: SyncOutcome) -> list[str]:
    """One line per non-zero pipeline report count: ``filtered out …: 3 (users 3)``."""
    summary = outcome.report.get("summary") or {}
    lines = []
    for action, label in HIGHLIGHTS:
        per_entity = {
            entity: int(row.get(action, 0))
            for entity, row in summary.items()
            if isinstance(row, dict) and row.get(action)
        }
        total = sum(per_entity.values())
        detail = ", ".join(f"{e} {n:,}" for e, n in per_entity.items())
        lines.append(f"{label}: {total:,}" + (f" ({detail})" if detail else ""))
    return lines


def print_next_steps(
    out: Console, outcome: SyncOutcome, district: str, config_path: Path, size: str, port: str
) -> None:
    """Where to look next: the report files, the run, the versions, OneRoster API and CSV."""
    d = f"-d {district!r}"
    files = outcome.report.get("files")
    lines = [
        f"report files:   {files}" if files else None,
        f"this run:       rostersync runs show {outcome.run_id}",
        f"configuration:  {config_path}",
        f"versions:       rostersync versions list {d}",
        f"this version:   rostersync versions show {d} {outcome.version}"
        if outcome.version
        else None,
        "OneRoster API:  rostersync serve   (then an API client: rostersync api-clients --help)",
        f"OneRoster CSV:  rostersync export oneroster-csv --district {district!r} "
        "--out oneroster.zip",
        f"sync again:     rostersync simulate powerschool --size {size} --port {port}",
        f"                rostersync sync run --config {config_path}",
    ]
    out.print("[bold]Where to look next[/bold]")
    for line in lines:
        if line is not None:
            out.print("  " + line, soft_wrap=True, highlight=False)


def write_demo_files(data_dir: Path, url: str, client_id: str, secret: str, district: str) -> Path:
    """Write ``demo.yaml`` and the secret file it references; returns the config path."""
    secret_path = data_dir / DEMO_SECRET
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret + "\n")
    path = data_dir / DEMO_CONFIG
    header = (
        "# Written by `rostersync demo`. Sync again while the simulator serves on the same URL:\n"
        "#   rostersync simulate powerschool --size small --port PORT   (another terminal)\n"
        f"#   rostersync sync run --config {path}\n"
    )
    body = yaml.safe_dump(demo_config(url, client_id, district), sort_keys=False)
    path.write_text(header + body, encoding="utf-8")
    return path


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        once: Annotated[
            bool, typer.Option("--once", help="Exit after the sync (for scripts and tests).")
        ] = False,
        size: Annotated[str, typer.Option(help="Simulated district size.")] = "small",
        seed: Annotated[int, typer.Option(help="Seed of the simulated district.")] = 1,
        port: Annotated[
            int, typer.Option(help="Simulator port (default 8765, or any free port if taken).")
        ] = DEMO_PORT,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
        multi_source: Annotated[
            bool,
            typer.Option(
                "--multi-source",
                help="Sync a second district fed by PowerSchool, a directory (slapd) and a "
                "OneRoster CSV package, merged with master fields.",
            ),
        ] = False,
    ) -> None:
        """Sync a simulated PowerSchool district end to end and show what was published."""
        from rostersync.simulators.powerschool import (
            SimulatorConfig,
            generate_district,
            run_simulator,
        )

        settings = get_settings()
        quiet_http_logs()
        if multi_source:
            from rostersync.simulators.directory import find_slapd

            find_slapd()  # before the simulator starts: a clear message naming the package
        data_dir = settings.ensure_data_dir()
        console.print(f"Generating a {size} PowerSchool district (seed {seed})…")
        district = generate_district(size, seed=seed)
        sim_config = SimulatorConfig()
        chosen = port if port and _port_free("127.0.0.1", port) else 0
        with run_simulator(district, sim_config, port=chosen) as sim:
            console.print(f"PowerSchool simulator serving on {sim.url}")
            config_path = write_demo_files(
                data_dir, sim.url, sim_config.client_id, sim_config.client_secret, district.name
            )
            if multi_source:
                from rostersync.cli.demo_multi import run_multi_source

                outcome = run_multi_source(
                    console,
                    settings,
                    district,
                    sim.url,
                    sim_config.client_id,
                    quiet=quiet,
                    once=once,
                )
                if not outcome.version:
                    raise ConfigurationError("the demo sync published nothing")
                return
            config = load_config(config_path)
            store = open_store(settings, upgrade=True)
            try:
                if quiet:
                    outcome = locked_sync(store, config, settings)
                else:
                    with ProgressView(console) as view:
                        outcome = locked_sync(store, config, settings, progress=view)
            finally:
                store.dispose()
            print_outcome(console, outcome)
            console.print()
            console.print("[bold]Pipeline report[/bold]")
            for line in report_highlights(outcome):
                console.print("  " + line, soft_wrap=True, highlight=False)
            console.print()
            port_used = sim.url.rsplit(":", 1)[-1]
            print_next_steps(console, outcome, district.name, config_path, size, port_used)
            if once:
                return
            console.print(f"\nThe simulator keeps serving on {sim.url}; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                console.print("stopped")
        if not outcome.version:
            raise ConfigurationError("the demo sync published nothing")
