"""`tenure events`: operate the event store."""

from __future__ import annotations

import time

import typer

from tenure.cli.context import console, event_store, handle_errors, print_json
from tenure.errors import Conflict

app = typer.Typer(help="Operate the product-usage event store.", no_args_is_help=True)


@app.command("compact")
@handle_errors
def compact(
    wait: bool = typer.Option(False, "--wait", help="Wait for a running compaction to finish."),
    every: float | None = typer.Option(
        None,
        "--every",
        min=1,
        help="Keep running, compacting every SECONDS (for a worker without a scheduler).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Move ingested events from the inbox into date-partitioned Parquet (one job at a time)."""
    from dataclasses import asdict

    from tenure.model.base import utcnow

    store = event_store()
    if store.is_postgres:
        console.print("events are written to PostgreSQL directly; nothing to compact")
        return
    while True:
        try:
            result = store.compact(now=utcnow(), wait=wait)
        except Conflict as busy:
            if every is None:
                raise
            console.print(f"skipped: {busy.message}", highlight=False)
        else:
            if as_json:
                print_json(asdict(result))
            else:
                console.print(
                    f"compacted {result.moved:,} inbox rows in {result.runs} run(s): "
                    f"{result.written:,} events written, {result.duplicates:,} duplicates dropped"
                    + (
                        f", {result.orphans_removed} unfinished file(s) removed"
                        if result.orphans_removed
                        else ""
                    )
                    + (
                        f", {result.merged_partitions} partition(s) merged into one file"
                        if result.merged_partitions
                        else ""
                    )
                )
        if every is None:
            return
        time.sleep(every)
