"""What the success commands share: the options, the day they judge, tables and percentages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.context import console
from tenure.errors import InvalidInput

if TYPE_CHECKING:
    from tenure.success.fit import FitConfig

AS_OF = typer.Option(None, "--as-of", help="Day to evaluate, YYYY-MM-DD (default: today, UTC).")
JSON = typer.Option(False, "--json", help="Print JSON.")
CONFIG = typer.Option(None, "--config", help="Fit criteria YAML (default: the shipped fit.yaml).")


def parse_day(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of {value!r} is not a date; use YYYY-MM-DD") from None


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
