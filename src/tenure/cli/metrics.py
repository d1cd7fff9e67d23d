"""`tenure metrics`: list the metric registry, compute and store metrics, QA them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, event_store, handle_errors, print_json, unit_of_work
from tenure.dates import parse_day

if TYPE_CHECKING:
    from tenure.metrics.registry import Metric
    from tenure.metrics.schemas import MetricQAReport

app = typer.Typer(help="Per-account metrics: usage, relationships, sentiment, support, commercial.")


@app.command("list")
@handle_errors
def list_metrics(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every metric with its unit and definition, the feature catalog's usage metrics last."""
    from rich.table import Table

    from tenure.metrics.schemas import MetricDefinition
    from tenure.metrics.service import known_metrics

    with unit_of_work() as session:
        definitions = [MetricDefinition.of(m) for m in known_metrics(session)]
    if as_json:
        print_json(definitions)
        return
    table = Table(title=f"{len(definitions)} metrics", show_lines=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("definition", ratio=1)
    for d in definitions:
        table.add_row(
            f"[bold]{d.slug}[/]\n{d.name}", f"{d.unit}\n[dim]{d.concept}[/]", d.description
        )
    console.print(table)


def _render_qa(report: MetricQAReport, metrics: list[Metric]) -> None:
    from rich.table import Table

    from tenure.metrics.registry import Unit

    by_slug = {m.slug: m for m in metrics}

    table = Table(title=f"Metric QA as of {report.as_of} — {report.accounts} accounts")
    for column, justify in (
        ("metric", "left"),
        ("with value", "right"),
        ("distinct", "right"),
        ("min", "right"),
        ("mean", "right"),
        ("max", "right"),
        ("flags", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for m in report.metrics:
        metric = by_slug[m.slug]
        table.add_row(
            m.slug,
            f"{m.with_value}/{m.accounts}",
            str(m.distinct),
            metric.format(m.minimum),
            f"{m.mean:.0%} yes"
            if metric.unit is Unit.flag and m.mean is not None
            else metric.format(m.mean),
            metric.format(m.maximum),
            f"[bold red]{', '.join(m.flags)}[/]" if m.flags else "",
        )
    console.print(table)
    flagged = report.flagged
    if flagged:
        console.print(
            f"[bold red]{len(flagged)} metric(s) flagged[/]: "
            + ", ".join(f"{m.slug} ({', '.join(m.flags)})" for m in flagged)
        )
    else:
        console.print("[green]no metric is empty or constant[/]")


@app.command("compute")
@handle_errors
def compute(
    as_of: str | None = AS_OF,
    first: str | None = typer.Option(
        None,
        "--from",
        help="First day of a range, YYYY-MM-DD: every day from it to --to (every --every days) "
        "is computed in one pass and stored.",
    ),
    last: str | None = typer.Option(
        None, "--to", help="Last day of the range (default: the last day the data covers)."
    ),
    every: int = typer.Option(
        1, "--every", min=1, help="Days between the range's dates (7 = weekly)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every account's values as JSON."),
    full: bool = typer.Option(
        False,
        "--full/--incremental",
        help="Read every event (--full) or the persisted daily roll-up (--incremental, the "
        "daily run's way: same values, cost of the days that changed).",
    ),
) -> None:
    """Compute every metric for every account as of a day (or each day of a range), and store
    them (replacing those days)."""
    from tenure.metrics.service import compute_and_store, compute_and_store_dates, known_metrics

    if first is None and last is not None:
        raise typer.BadParameter("--to needs --from", param_hint="--to")
    if first is not None and as_of is not None:
        raise typer.BadParameter("give --as-of or a range (--from/--to), not both")
    with unit_of_work() as session:
        if first is not None:
            end = as_of_day(session, last, quiet=as_json)
            ranged = compute_and_store_dates(session, event_store(), parse_day(first), end, every)
            metrics = known_metrics(session)
        else:
            day = as_of_day(session, as_of, quiet=as_json)
            run = compute_and_store(session, event_store(), day, incremental=not full)
            metrics = known_metrics(session)
    if first is not None:
        if as_json:
            print_json(ranged)
            return
        rows = sum(d.accounts for d in ranged.days)
        shown = f"from {ranged.days[0].as_of} to {ranged.days[-1].as_of}" if ranged.days else ""
        console.print(
            f"stored {ranged.metrics} metrics for {len(ranged.days)} days {shown} "
            f"({rows} account-days) in one pass, {ranged.seconds:.2f}s",
            highlight=False,
        )
        _render_qa(ranged.qa, metrics)
        return
    if as_json:
        print_json(run)
        return
    console.print(
        f"stored {run.metrics} metrics for {run.accounts} accounts as of {run.as_of} "
        f"in {run.seconds:.2f}s"
    )
    _render_qa(run.qa, metrics)


@app.command("qa")
@handle_errors
def qa(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Stored day to check, YYYY-MM-DD. Default: the latest stored day."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Flag stored metrics that are empty or constant across accounts (usually a broken source)."""
    from tenure.metrics.qa import qa_report
    from tenure.metrics.service import known_metrics, latest_as_of, stored_metrics

    with unit_of_work() as session:
        day = parse_day(as_of) if as_of else latest_as_of(session)
        frame = stored_metrics(session, day)
        metrics = known_metrics(session)
    assert day is not None  # stored_metrics raised NotFound otherwise
    report = qa_report(frame, metrics, day)
    if as_json:
        print_json(report)
        return
    _render_qa(report, metrics)
