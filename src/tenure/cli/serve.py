"""`tenure serve`: the web console, the REST API and the Segment-spec ingest API."""

from __future__ import annotations

import typer

from tenure.cli.context import handle_errors, settings


@handle_errors
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default: TENURE_HOST)."),
    port: int | None = typer.Option(None, help="Port to bind (default: TENURE_PORT)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve Tenure over HTTP (uvicorn)."""
    import uvicorn

    config = settings()
    uvicorn.run(
        "tenure.api.app:create_app",
        factory=True,
        host=host or config.host,
        port=port or config.port,
        workers=workers,
        proxy_headers=True,
    )
