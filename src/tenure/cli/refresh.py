"""`tenure refresh`: bring today's metrics and health up to date for accounts with new events."""

from __future__ import annotations

import typer

from tenure.cli.context import console, database, event_store, handle_errors, print_json, settings
from tenure.dates import parse_day


@handle_errors
def refresh(
    every: float | None = typer.Option(
        None, min=1, help="Keep refreshing every SECONDS (until Ctrl-C); default: once."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Day to refresh, YYYY-MM-DD. Default: today (UTC), intraday."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Recompute metrics and health scores of the accounts with events since the last refresh."""
    from tenure.jobs.intraday import describe, refresh_forever, refresh_once

    config = settings()
    day = None if as_of is None else parse_day(as_of)
    if every is not None:
        refresh_forever(config, every, report=console.print, as_of=day)
        return
    engine = database(config)
    store = event_store(config)
    try:
        run = refresh_once(engine, store, config, day)
    finally:
        store.close()
        engine.dispose()
    if as_json:
        print_json(None if run is None else {**run.__dict__, "watermark": run.watermark.__dict__})
    else:
        console.print(describe(run))
