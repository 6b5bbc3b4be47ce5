"""`rostersync simulate powerschool`: serve the PowerSchool simulator until interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rostersync.errors import ConfigurationError


def register(app: typer.Typer) -> None:
    """Add the `simulate` command group."""
    group = typer.Typer(help="Run simulated source apps.", no_args_is_help=True)

    @group.command("powerschool")
    def powerschool(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0 = any free port).")] = 8765,
        size: Annotated[str, typer.Option(help="District size to generate.")] = "tiny",
        data: Annotated[
            Path | None, typer.Option("--data", help="Serve a district written by `generate`.")
        ] = None,
        students: Annotated[int | None, typer.Option(help="Number of students.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the generated district.")] = 1,
        day: Annotated[int, typer.Option(help="Day of the district's life.")] = 0,
        client_id: Annotated[str | None, typer.Option(help="OAuth client ID.")] = None,
        client_secret: Annotated[str | None, typer.Option(help="OAuth client secret.")] = None,
        plugin: Annotated[
            Path | None, typer.Option("--plugin", help="Installed plugin (zip or plugin.xml).")
        ] = None,
        max_page_size: Annotated[int, typer.Option(help="Max page size of every resource.")] = 100,
        pagesize_over_max: Annotated[str, typer.Option(help="clamp or error.")] = "clamp",
        latency_ms: Annotated[int, typer.Option(help="Fault: added latency.")] = 0,
        error_rate: Annotated[float, typer.Option(help="Fault: share of 500/503 answers.")] = 0.0,
        min_interval_ms: Annotated[int, typer.Option(help="Fault: throttling interval.")] = 0,
        token_max_requests: Annotated[
            int | None, typer.Option(help="Fault: a token expires after N requests.")
        ] = None,
        truncate_rate: Annotated[float, typer.Option(help="Fault: share of cut pages.")] = 0.0,
        outage: Annotated[bool, typer.Option(help="Fault: lists come back empty.")] = False,
        token_lifetime: Annotated[int, typer.Option(help="Token lifetime (seconds).")] = 2592000,
        school_student_filter: Annotated[
            str, typer.Option(help="[U] school student list default: active or all.")
        ] = "active",
        enforce_v1_access_level: Annotated[
            bool, typer.Option(help="[U] act as SIS 25.2+: honour accessLevelV1Api.")
        ] = False,
        coerce_numbers: Annotated[
            bool, typer.Option(help="[U] digit-only values as JSON numbers in v1.")
        ] = True,
        fiql_or: Annotated[bool, typer.Option(help="[U] allow OR (,) in v1/table q.")] = False,
        throttle_status: Annotated[int, typer.Option(help="[U] status of a throttled call.")] = 429,
        enable_control: Annotated[
            bool, typer.Option(help="Serve the test-only /_sim control endpoints.")
        ] = False,
    ) -> None:
        """Serve a PowerSchool SIS simulator; prints one URL line, then serves until Ctrl-C."""
        import uvicorn

        from rostersync.simulators.powerschool import (
            Faults,
            SimulatorConfig,
            create_simulator_app,
            generate_district,
            load_district,
            read_plugin,
        )
        from rostersync.simulators.powerschool.config import default_max_page_sizes
        from rostersync.simulators.powerschool.server import free_port

        if school_student_filter not in ("active", "all"):
            raise ConfigurationError(
                "--school-student-filter must be active or all", setting="school_student_filter"
            )
        if pagesize_over_max not in ("clamp", "error"):
            raise ConfigurationError(
                "--pagesize-over-max must be clamp or error", setting="pagesize_over_max"
            )
        if data is not None:
            district = load_district(data)
            if day > district.day:
                district.advance_to(day)
        else:
            district = generate_district(size, seed=seed, students=students, day=day)
        config = SimulatorConfig(
            token_lifetime=token_lifetime,
            max_page_sizes=dict.fromkeys(default_max_page_sizes(), max_page_size),
            pagesize_over_max="error" if pagesize_over_max == "error" else "clamp",
            enable_control=enable_control,
            faults=Faults(
                latency_ms=latency_ms,
                error_rate=error_rate,
                min_interval_ms=min_interval_ms,
                token_max_requests=token_max_requests,
                truncate_rate=truncate_rate,
                outage=outage,
            ),
            plugin=read_plugin(plugin) if plugin else None,
            school_student_filter="all" if school_student_filter == "all" else "active",
            enforce_v1_access_level=enforce_v1_access_level,
            coerce_numbers=coerce_numbers,
            fiql_or=fiql_or,
            throttle_status=throttle_status,
        )
        if client_id:
            config.client_id = client_id
        if client_secret:
            config.client_secret = client_secret
        app = create_simulator_app(district, config)
        port = port or free_port(host)
        print(
            f"PowerSchool simulator serving {district.student_count} students on "
            f"http://{host}:{port} (client_id={config.client_id})",
            flush=True,
        )
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

    app.add_typer(group, name="simulate")
