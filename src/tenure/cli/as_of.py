"""The one ``--as-of`` option of every command, resolved by :mod:`tenure.as_of`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

AS_OF_HELP = (
    "Day to judge, YYYY-MM-DD (default: the last day the data covers, never after today; "
    "the output says which day)."
)
AS_OF = typer.Option(None, "--as-of", help=AS_OF_HELP)


def as_of_day(session: Session, value: str | None, *, quiet: bool = False) -> date:
    """The day a command judges. Human output begins by saying which day and why; ``quiet`` for
    ``--json`` output, which carries the day in its payload and stays pure JSON."""
    from tenure.as_of import resolve_as_of
    from tenure.cli.context import console, event_store
    from tenure.dates import parse_day

    as_of = resolve_as_of(session, event_store(), None if value is None else parse_day(value))
    if not quiet:
        console.print(f"[dim]{as_of.statement}[/]", highlight=False)
    return as_of.day
