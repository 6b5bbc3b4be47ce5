"""`rostersync serve`: run the web application (OneRoster provider and admin) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from rostersync.cli._app import console, get_settings


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
        workers: Annotated[
            int, typer.Option("--workers", help="Worker processes (each opens the store).", min=1)
        ] = 1,
    ) -> None:
        """Serve the OneRoster 1.1/1.2 provider and the web app over HTTP."""
        import uvicorn

        from rostersync.web import create_app

        settings = get_settings()
        console.print(f"serving rostersync on http://{host}:{port}")
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        else:
            uvicorn.run(
                "rostersync.web.app:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
