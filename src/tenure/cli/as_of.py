"""The one ``--as-of`` option of every command, resolved by :mod:`tenure.as_of`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

AS_OF = typer.Option(
    None,
    "--as-of",
    help="Day to judge, YYYY-MM-DD (default: the last day the data covers, never after today; "
    "the day used is said on stderr).",
)


def as_of_day(session: Session, value: str | None) -> date:
    """The day a command judges; says which on stderr, so ``--json`` output stays clean."""
    from tenure.as_of import resolve_as_of
    from tenure.cli.context import err_console, event_store
    from tenure.dates import parse_day

    given = None if value is None else parse_day(value)
    as_of = resolve_as_of(session, event_store(), given)
    err_console.print(as_of.statement, highlight=False)
    return as_of.day
