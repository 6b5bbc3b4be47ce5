"""`rostersync serve`: run the web application (OneRoster provider and admin) with uvicorn."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated, Any

import typer

from rostersync.cli._app import console, get_settings
from rostersync.errors import ConfigurationError

#: Request-head limits of the server (see rostersync.web.limits): 16 KiB covers any real
#: client (browsers send a few KiB) and 10 s any real network, while a slow trickle is cut off.
DEFAULT_MAX_HEADER_BYTES = 16_384
DEFAULT_HEADER_TIMEOUT = 10.0


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
        workers: Annotated[
            int, typer.Option("--workers", help="Worker processes (each opens the store).", min=1)
        ] = 1,
        access_log: Annotated[
            bool,
            typer.Option(
                "--access-log/--no-access-log",
                help="Log one line per request (off by default: quiet unless asked for).",
            ),
        ] = False,
        with_scheduler: Annotated[
            bool,
            typer.Option(
                "--with-scheduler",
                help="Also run the sync scheduler here (instead of `rostersync worker`).",
            ),
        ] = False,
        max_header_bytes: Annotated[
            int,
            typer.Option(
                "--max-header-bytes",
                help="Largest request line plus headers accepted, in bytes; larger requests "
                "are answered 431.",
                min=1024,
                max=1_048_576,
            ),
        ] = DEFAULT_MAX_HEADER_BYTES,
        header_timeout: Annotated[
            float,
            typer.Option(
                "--header-timeout",
                help="Seconds a client has to send a request's line and headers (from the "
                "connection's opening or the request's first byte); slower ones are answered "
                "408 and disconnected.",
                min=0.5,
                max=600.0,
            ),
        ] = DEFAULT_HEADER_TIMEOUT,
    ) -> None:
        """Serve the OneRoster 1.1/1.2 provider and the web app over HTTP."""
        import uvicorn

        from rostersync.store import open_store
        from rostersync.web import create_app
        from rostersync.web.app import tune_gc
        from rostersync.web.limits import limited_http
        from rostersync.web.workers import BALANCES, serve_workers

        settings = get_settings()
        from rostersync.sync.recovery import recover_at_start

        recover_at_start(settings)  # runs a killed process left running or publishing
        console.print(f"serving rostersync on http://{host}:{port}")
        # httptools (a dependency) parses HTTP in C; named, so a broken install fails loudly
        # instead of falling back to h11, which costs more CPU per request than a page query.
        # Its protocol is wrapped with the request-head limits (web/limits).
        options: dict[str, Any] = {
            "host": host,
            "port": port,
            # the server's own start/stop lines only when asked for (ROSTERSYNC_LOG_LEVEL=DEBUG,
            # or --access-log, whose lines uvicorn writes at its info level)
            "log_level": "info" if settings.log_level == "DEBUG" or access_log else "warning",
            "access_log": access_log,
            "http": limited_http(max_header_bytes, header_timeout),
        }
        # The scheduler runs once, in this (parent) process, whatever the number of web workers.
        scheduler = None
        if with_scheduler:
            from rostersync.schedule.service import start_scheduler_thread

            scheduler = start_scheduler_thread(settings)
            console.print("sync scheduler running in this process")
            # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler
            # that would kill the process before the scheduler could stop and clear its
            # heartbeat. Turning it into SystemExit lets the `finally` below run.
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            if workers > 1:
                # The workers build the app themselves: open the store here first, so an
                # unreachable database is this one line, as with one worker.
                open_store(settings).dispose()
            if workers == 1:
                web_app = create_app(settings)
                tune_gc()
                uvicorn.run(web_app, **options)
            elif BALANCES:
                # A socket per worker, so the kernel spreads connections evenly (web/workers).
                local = {k: v for k, v in options.items() if k not in ("host", "port")}
                try:
                    serve_workers(workers, host, port, local)
                except OSError as exc:
                    raise ConfigurationError(
                        f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                        hint="choose another --port or stop what is using this one",
                    ) from exc
            else:
                uvicorn.run(
                    "rostersync.web.app:app_from_environment",
                    factory=True,
                    workers=workers,
                    **options,
                )
        finally:
            if scheduler is not None:
                scheduler.stop()
