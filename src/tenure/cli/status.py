"""`tenure status`: what is stored where."""

from __future__ import annotations

import typer

from tenure.cli.context import (
    console,
    event_store,
    handle_errors,
    print_json,
    settings,
    unit_of_work,
)


@handle_errors
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Rows per table, events (count, first, last), inbox and quarantine, store locations."""
    from rich.table import Table

    from tenure.store.status import collect_status

    config = settings()
    with unit_of_work(config) as session:
        report = collect_status(session, event_store(config), config)
    if as_json:
        print_json(report)
        return
    counts = Table("table", "rows", title="Operational database", title_justify="left")
    for name, rows in report.tables.items():
        counts.add_row(name, f"{rows:,}")
    console.print(counts)
    span = (
        f"{report.first_event:%Y-%m-%d %H:%M} → {report.last_event:%Y-%m-%d %H:%M} UTC"
        if report.first_event and report.last_event
        else "none yet"
    )
    console.print(f"[bold]events[/]        {report.events:,} ({span})")
    console.print(f"[bold]inbox pending[/] {report.inbox_pending:,} (not yet compacted)")
    console.print(f"[bold]quarantined[/]   {report.quarantined:,}")
    for item in report.recent_quarantine:
        console.print(
            f"  {item.received_at:%Y-%m-%d %H:%M:%S} {item.source}: {item.reason}", highlight=False
        )
    console.print(f"[bold]database[/]      {report.database}", highlight=False)
    console.print(f"[bold]data dir[/]      {report.data_dir}", highlight=False)
    console.print(f"[bold]event store[/]   {report.event_store}", highlight=False)
