"""What the success commands share: options, days other than the one judged, tables, percentages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.context import console
from tenure.dates import parse_day

if TYPE_CHECKING:
    from tenure.success.fit import FitConfig

JSON = typer.Option(False, "--json", help="Print JSON.")
CONFIG = typer.Option(None, "--config", help="Fit criteria YAML (default: the shipped fit.yaml).")


def day_or_today(value: str | None, option: str) -> date:
    """A day that is not the day judged (``--on``, ``--since``, ``--effective-from``): today
    unless given."""
    return datetime.now(UTC).date() if value is None else parse_day(value, option)


def fit_config(path: Path | None) -> FitConfig:
    from tenure.success.fit import load_fit_config

    return load_fit_config(path)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    grid = Table(title=title)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*["" if v is None else str(v) for v in row])
    console.print(grid)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
