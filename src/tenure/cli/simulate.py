"""`tenure simulate`: generate a customer base with known outcomes, into the stores or to files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.context import console, handle_errors, print_json, settings
from tenure.dates import parse_day

if TYPE_CHECKING:
    from tenure.simulate import SimulationResult


@contextmanager
def day_progress(description: str) -> Iterator[Any]:
    """A rich progress bar over simulated days; yields the callback the engine calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# Row kinds whose key is no plain word.
ROW_NAMES = {"fx_rates": "exchange rates"}


def render_result(result: SimulationResult) -> None:
    from rich.table import Table

    table = Table(title=f"Simulated {result.start} → {result.as_of} (seed {result.seed})")
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("events", f"{result.events:,}")
    for entity, count in result.rows.items():
        table.add_row(ROW_NAMES.get(entity, entity), f"{count:,}")
    console.print(table)
    console.print(
        f"config hash [bold]{result.config_hash}[/] · {result.seconds:.1f} s · "
        f"{result.events / max(result.seconds, 1e-9):,.0f} events/s\n"
        f"data: {result.location}\nground truth (evaluation only): {result.truth_dir}",
        highlight=False,
    )


@handle_errors
def command(
    accounts: int | None = typer.Option(None, "--accounts", help="Accounts over the run."),
    months: int | None = typer.Option(None, "--months", help="Months simulated, ending at as-of."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same data)."),
    preset: str = typer.Option("demo", "--preset", help="demo | medium | large."),
    config_file: Path | None = typer.Option(
        None, "--config", help="YAML overriding the preset (keys as in presets/defaults.yaml)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write Parquet files here instead of loading the configured stores."
    ),
    as_exports: Path | None = typer.Option(
        None,
        "--as-exports",
        help="Write the company as its tools export it (Salesforce Data Loader CSVs, Stripe "
        "JSON lines, Segment track calls, Tenure's format for the rest) into this folder; "
        "see its README.md.",
    ),
    dirt: str = typer.Option(
        "all",
        "--dirt",
        help="With --as-exports: the dirt the exports carry — all, none, or any of cp1252, bom, "
        "short_ids, refused_rows, parent_after_child (comma-separated).",
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Last simulated day is the day before; default fixed at 2026-11-01."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run's figures as JSON."),
    interventions_file: Path | None = typer.Option(
        None,
        "--interventions",
        help="CSV/Parquet of plays (account_external_id, date, play) whose value effect is set "
        "in the config's interventions.plays; see docs/simulate.md.",
    ),
) -> None:
    """Simulate a B2B customer base — accounts, contracts, people, usage — with ground truth."""
    from tenure.simulate import load_config, simulate_into_stores, simulate_to_files
    from tenure.simulate.exports import Dirt, simulate_as_exports
    from tenure.simulate.interventions import read_interventions

    config = load_config(
        preset,
        path=config_file,
        overrides={
            "accounts": accounts,
            "months": months,
            "seed": seed,
            "as_of": None if as_of is None else parse_day(as_of),
        },
    )
    plays = read_interventions(interventions_file, config) if interventions_file else None
    if out is not None and as_exports is not None:
        raise typer.BadParameter("give --out or --as-exports, not both")
    planted: list[str] = []
    with day_progress(f"simulating {config.accounts:,} accounts") as progress:
        if as_exports is not None:
            exported = simulate_as_exports(config, as_exports, Dirt.parse(dirt), progress, plays)
            result, planted = exported.simulation, exported.planted
        elif out is not None:
            result = simulate_to_files(config, out, progress, plays)
        else:
            result = simulate_into_stores(config, settings(), progress, plays)
    if as_json:
        print_json(
            {
                "config_hash": result.config_hash,
                "seed": result.seed,
                "start": result.start.isoformat(),
                "as_of": result.as_of.isoformat(),
                "events": result.events,
                "rows": result.rows,
                "seconds": result.seconds,
                "location": str(result.location),
                "truth_dir": str(result.truth_dir),
                "planted": planted,
            }
        )
    else:
        render_result(result)
        for line in planted:
            console.print(f"planted to be refused: {line}", highlight=False)
