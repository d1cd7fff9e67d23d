"""`tenure backup DIR` and `tenure restore DIR`: the embedded stores, copied while they run."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.context import console, handle_errors, print_json, settings


@handle_errors
def backup(
    folder: Path = typer.Argument(..., help="New or empty folder to write the backup into."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Copy the database, the event inbox and the Parquet events into FOLDER — safe while
    `tenure serve` runs (SQLite's online backup; compaction waits). PostgreSQL: use pg_dump
    (docs/deploy.md)."""
    from tenure.model.base import utcnow
    from tenure.store.backup import backup as run_backup

    report = run_backup(settings(), folder, now=utcnow())
    if as_json:
        print_json(report)
        return
    console.print(
        f"backed up {report.files} files, {report.bytes / 1e6:,.1f} MB, in "
        f"{report.seconds:.1f} s → {report.folder}",
        highlight=False,
    )


@handle_errors
def restore(
    folder: Path = typer.Argument(..., help="A folder `tenure backup` wrote."),
    force: bool = typer.Option(
        False, "--force", help="Replace the data already in TENURE_DATA_DIR / the database."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Put a backup in place of the configured stores (an empty data dir unless --force).
    Stop the server and workers first."""
    from tenure.store.backup import restore as run_restore

    report = run_restore(settings(), folder, force=force)
    if as_json:
        print_json(report)
        return
    console.print(
        f"restored {report.files} files, {report.bytes / 1e6:,.1f} MB, in "
        f"{report.seconds:.1f} s from {report.folder}",
        highlight=False,
    )
