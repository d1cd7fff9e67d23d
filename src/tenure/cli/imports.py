"""`tenure import ENTITY FILE`: load another system's export into Tenure, all rows or none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.context import console, err_console, handle_errors
from tenure.ingest.files import FileFormat

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from tenure.errors import RejectedFile
    from tenure.ingest.request import ImportReport, ImportRequest

app = typer.Typer(
    help="Import records from CSV, JSON lines or Parquet; a file with a bad row is refused whole.",
    no_args_is_help=True,
)

# Files at least this big get a progress bar (about 10k CSV rows).
PROGRESS_FROM_BYTES = 1 << 20

ENTITY_HELP = {
    "users": "The team as the CRM knows them (Salesforce Users) by external_id, matched to "
    "existing users by e-mail; import them before accounts that name owners by CRM id.",
    "accounts": "Accounts by external_id (parents may be in the same file).",
    "contacts": "Contacts by external_id, linked to accounts by account_external_id.",
    "contracts": "Contracts/subscriptions by external_id, linked by account_external_id.",
    "features": "The feature catalog by key (the event name that shows use).",
    "events": "Product-usage events by message_id, into the event store (duplicates skipped).",
    "surveys": "NPS/CSAT responses by external_id.",
    "tickets": "Support tickets by external_id.",
    "touchpoints": "Meetings, calls, QBRs… by external_id, with attendees by contact external ids.",
    "opportunities": "Deals (new business, expansion, renewal) by external_id: stage, amount, "
    "close date, won/lost (-m salesforce-opportunities, -m hubspot-deals).",
    "handoffs": "Sales → CS handoffs by external_id: who handed the customer to whom, when, and "
    "the Desired Outcome captured (-m salesforce-handoffs).",
    "advocacy": "Success stories, case studies, references, speaker slots and referrals by "
    "external_id (-m salesforce-advocacy).",
    "messages": "Engagement messages already sent, by external_id, each with its goal and check "
    "(Tenure's own format); their goals are judged by the daily run.",
}


class _Bar:
    """Adapts a rich progress display to the importer's Progress protocol."""

    def __init__(self, progress: RichProgress | None) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, description: str, total: int | None) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


@contextmanager
def _progress(path: Path) -> Iterator[_Bar]:
    if path.stat().st_size < PROGRESS_FROM_BYTES:
        yield _Bar(None)
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield _Bar(progress)


def _import(
    entity: str,
    file: Path,
    mapping_name: str | None,
    file_format: FileFormat | None,
    encoding: str | None,
    as_json: bool,
    dry_run: bool,
    skip_invalid: bool = False,
) -> None:
    from tenure.cli.context import event_store, print_json, settings, unit_of_work
    from tenure.errors import RejectedFile
    from tenure.ingest.mappings import load_mapping
    from tenure.ingest.provenance import load_precedence
    from tenure.ingest.request import ImportRequest
    from tenure.ingest.runs import record_rejection, write_rejects
    from tenure.ingest.service import import_file
    from tenure.model.base import utcnow

    config = settings()
    mapping = load_mapping(mapping_name) if mapping_name else None
    if skip_invalid and entity == "events":
        raise typer.BadParameter("--skip-invalid is for records; events files are all or nothing")
    precedence = load_precedence(config.import_precedence)
    request = ImportRequest(
        entity, file, mapping, file_format, encoding, skip_invalid, precedence=precedence
    )
    started_at = utcnow()
    if dry_run:
        _dry_run(request, as_json)
        return
    try:
        with _progress(file) as bar, unit_of_work(config) as session:
            store = event_store(config) if entity == "events" else None
            report = import_file(
                session, request, None, store=store, progress=bar, started_at=started_at
            )
    except RejectedFile as rejected:
        # The import rolled back; the refusal is logged in a transaction of its own.
        with unit_of_work(config) as session:
            record_rejection(session, request, rejected, started_at=started_at)
        _show_rejection(rejected, as_json)
        raise typer.Exit(1) from rejected
    rejects_path = None
    if report.rejects:
        rejects_path = file.with_name(f"{file.stem}.rejects.csv")
        write_rejects(rejects_path, report.rejects)
    if as_json:
        print_json({**report.model_dump(mode="json"), "rejects_file": _shown(rejects_path)})
    else:
        _show_report(report)
        for note in report.notes:
            console.print(f"[bold]note:[/] {note}", soft_wrap=True, highlight=False)
        if rejects_path is not None:
            err_console.print(
                f"{report.rejected} row(s) left out ({len(report.rejects)} problem(s)): "
                f"{rejects_path}",
                soft_wrap=True,
                highlight=False,
            )


def _shown(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _dry_run(request: ImportRequest, as_json: bool) -> None:
    """Check the file and count what would change, then roll back: nothing is written or logged."""
    from tenure.cli.context import database, print_json, settings
    from tenure.errors import RejectedFile
    from tenure.ingest.importer import count_valid_events, import_records
    from tenure.ingest.request import ImportReport
    from tenure.store.database import session_factory

    try:
        with _progress(request.path) as bar:
            if request.entity == "events":
                rows = count_valid_events(request, progress=bar)
                report = ImportReport(
                    entity="events",
                    file_name=request.path.name,
                    mapping=request.mapping.name if request.mapping else None,
                    rows=rows,
                    inserted=0,
                    updated=0,
                    unchanged=0,
                )
            else:
                engine = database(settings())
                try:
                    with session_factory(engine)() as session:
                        report = import_records(session, request, progress=bar)
                        session.rollback()
                finally:
                    engine.dispose()
    except RejectedFile as rejected:
        _show_rejection(rejected, as_json)
        raise typer.Exit(1) from rejected
    if as_json:
        print_json(report)
    elif request.entity == "events":
        console.print(f"{report.file_name}: {report.rows} events checked; dry run, nothing written")
    else:
        _show_report(report, dry_run=True)


def _show_report(report: ImportReport, *, dry_run: bool = False) -> None:
    from rich.table import Table

    events = report.entity == "events"
    title = (
        f"dry run, nothing written: {report.file_name}"
        if dry_run
        else f"imported {report.file_name}"
    )
    table = Table(title=title, title_justify="left")
    for header in (
        "entity",
        "mapping",
        "rows",
        "written" if events else "inserted",
        "updated",
        "already stored" if events else "unchanged",
    ):
        table.add_column(header, justify="left" if header in {"entity", "mapping"} else "right")
    cells = [
        report.entity,
        report.mapping or "—",
        str(report.rows),
        str(report.inserted),
        str(report.updated),
        str(report.unchanged),
    ]
    if report.rejected:
        table.add_column("left out", justify="right")
        cells.append(str(report.rejected))
    table.add_row(*cells)
    console.print(table)
    _show_identities(report)


def _plain(value: str | None) -> str:
    return {"True": "yes", "False": "no", None: ""}.get(value, value or "")


def _show_identities(report: ImportReport) -> None:
    """Which rows joined records other systems stored, and where two systems disagree."""
    from rich.table import Table

    notes = []
    if report.matched:
        notes.append(f"{report.matched} row(s) matched a record imported from another system")
    if report.linked_by_domain:
        notes.append(f"{report.linked_by_domain} contact(s) joined their e-mail domain's account")
    if report.without_account:
        notes.append(f"{report.without_account} contact(s) stored without an account")
    for note in notes:
        console.print(note, highlight=False)
    if report.conflicts:
        table = Table(
            title=f"{report.conflict_count} value(s) two systems disagree on",
            title_justify="left",
        )
        for header in ("record", "field", "stored", "from", "this file", "from", "kept"):
            table.add_column(header, overflow="fold")
        for c in report.conflicts[:50]:
            table.add_row(
                c.record,
                c.field.replace("_", " "),
                _plain(c.stored),
                c.stored_by,
                _plain(c.given),
                c.given_by,
                c.kept,
            )
        console.print(table)
        if report.conflict_count > 50:
            console.print(
                f"… and {report.conflict_count - 50} more: `tenure import runs --json`",
                highlight=False,
            )
    for problem in report.identity_problems[:50]:
        console.print(f"{problem.record}: {problem.identity} — {problem.reason}", highlight=False)


def _show_rejection(rejected: RejectedFile, as_json: bool) -> None:
    from rich.table import Table

    if as_json:
        from tenure.cli.context import print_json

        print_json(rejected.to_dict())
        return
    shown = rejected.errors[:200]
    err_console.print(
        f"[bold red]error:[/] {rejected.path}: rejected, {len(rejected.errors)} bad row(s); "
        "nothing was imported",
        soft_wrap=True,
        highlight=False,
    )
    table = Table()
    for header in ("line", "column", "value", "reason"):
        table.add_column(header, overflow="fold")
    for error in shown:
        table.add_row(str(error.line), error.column or "", error.value or "", error.reason)
    err_console.print(table)
    if len(rejected.errors) > len(shown):
        err_console.print(
            f"… and {len(rejected.errors) - len(shown)} more: `tenure import runs --json`"
        )


def _register(entity: str) -> None:
    @app.command(entity, help=ENTITY_HELP[entity])
    @handle_errors
    def command(
        file: Path = typer.Argument(
            ...,
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV, JSON lines (.jsonl) or Parquet file.",
        ),
        mapping: str | None = typer.Option(
            None,
            "--mapping",
            "-m",
            help="Column mapping: a shipped name (`tenure import mappings`) or a YAML path.",
        ),
        file_format: FileFormat | None = typer.Option(
            None, "--format", help="File format; default: from the extension."
        ),
        encoding: str | None = typer.Option(
            None,
            help="Text encoding of CSV/JSON-lines files; default: told from the file "
            "(byte-order mark, UTF-8, else e.g. cp1252).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Check the file and count what would change; write nothing."
        ),
        skip_invalid: bool = typer.Option(
            False,
            "--skip-invalid",
            help="Store the good rows; write the bad ones' problems to FILE.rejects.csv beside "
            "the file (default: refuse the whole file).",
        ),
    ) -> None:
        _import(entity, file, mapping, file_format, encoding, as_json, dry_run, skip_invalid)


for _entity in ENTITY_HELP:
    _register(_entity)


@app.command("runs")
@handle_errors
def runs(
    limit: int = typer.Option(20, help="How many of the latest imports to show."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON, with errors."),
) -> None:
    """The import history: what was imported or refused, and when."""
    from rich.table import Table

    from tenure.cli.context import print_json, unit_of_work
    from tenure.ingest.runs import ImportRunRead, list_runs

    with unit_of_work() as session:
        history = [ImportRunRead.model_validate(run) for run in list_runs(session, limit=limit)]
    if as_json:
        print_json(history)
        return
    table = Table(title="imports, latest first", title_justify="left")
    for header in (
        "started",
        "entity",
        "file",
        "mapping",
        "status",
        "rows",
        "inserted",
        "updated",
        "unchanged",
        "errors",
    ):
        table.add_column(header, no_wrap=header in {"started", "status"})
    for run in history:
        table.add_row(
            f"{run.started_at:%Y-%m-%d %H:%M}",
            run.entity,
            run.file_name,
            run.mapping or "—",
            run.status,
            str(run.rows),
            str(run.inserted),
            str(run.updated),
            str(run.unchanged),
            str(len(run.errors)),
        )
    console.print(table)


@app.command("mappings")
@handle_errors
def mappings(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The column mappings shipped with Tenure (pass one with --mapping NAME)."""
    from rich.table import Table

    from tenure.cli.context import print_json
    from tenure.ingest.mappings import load_mapping, shipped_mappings

    shipped = [load_mapping(name) for name in sorted(shipped_mappings())]
    if as_json:
        print_json([m.model_dump(mode="json") for m in shipped])
        return
    table = Table(title="shipped column mappings", title_justify="left")
    for header in ("name", "entity", "description"):
        table.add_column(header)
    for mapping in shipped:
        table.add_row(mapping.name, mapping.entity, mapping.description)
    console.print(table)
