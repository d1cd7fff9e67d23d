"""What every CLI command needs: settings, a migrated database, a unit of work, error rendering.

Every command module imports this one, so ``tenure --help`` pays for whatever it imports at
module level: the settings (pydantic), SQLAlchemy, the models, Alembic and the event store
(pyarrow, Ibis) load inside the functions that use them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console

from tenure.errors import TenureError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from tenure.auth.permissions import Actor
    from tenure.config import Settings
    from tenure.store.events import EventStore


# Columns written to a file or a pipe (unless COLUMNS says otherwise): a log or a script reads
# whole lines, not lines cut at Rich's default 80.
WIDE = 200


def _console(stream: TextIO) -> Console:
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stream is sys.stderr, width=WIDE if wide else None)


console = _console(sys.stdout)
err_console = _console(sys.stderr)

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    from tenure.config import get_settings

    return get_settings()


def database(config: Settings | None = None) -> sa.Engine:
    """The operational database, migrated to the current schema on first use."""
    from tenure.store.database import create_engine
    from tenure.store.migrate import is_current, upgrade

    config = config or settings()
    engine = create_engine(config.resolved_database_url)
    if not is_current(engine):
        upgrade(engine)
    return engine


@contextmanager
def unit_of_work(config: Settings | None = None) -> Iterator[Session]:
    """One transaction for one command: everything commits at the end, or nothing does."""
    from tenure.store.database import session_factory, session_scope

    engine = database(config)
    try:
        with session_scope(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def cli_actor(session: Session) -> Actor:
    """The OS user running this command, as the actor its changes are audited under."""
    import getpass

    from tenure.auth.permissions import system_actor

    return system_actor(session, getpass.getuser())


def event_store(config: Settings | None = None) -> EventStore:
    from tenure.store.events import open_event_store

    return open_event_store(config or settings())


def widen_off_terminal(width: int = 120) -> None:
    """Tables up to ``width`` columns wide when stdout is no terminal (a log, a pipe, a test),
    where rich would otherwise cut them to 80; a terminal's own width or COLUMNS still wins."""
    import os

    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = width


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Render expected failures as a clear message and exit code 1 (never a traceback)."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TenureError as error:
            err_console.print(f"[bold red]error:[/] {error.message}", highlight=False)
            raise typer.Exit(1) from error
        except Exception as error:
            # an option the schema refuses, e.g. a weak password; pydantic is imported here, not
            # at module level, so that `tenure --help` stays instant
            from pydantic import ValidationError

            if not isinstance(error, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in error.errors()
            )
            err_console.print(f"[bold red]error:[/] {problems}", highlight=False)
            raise typer.Exit(1) from error

    return wrapper


def print_json(data: Any) -> None:
    """Machine-readable output for --json (pydantic models, lists or dicts)."""
    from pydantic import BaseModel, TypeAdapter

    if isinstance(data, BaseModel):
        typer.echo(data.model_dump_json(indent=2))
    else:
        typer.echo(TypeAdapter(type(data)).dump_json(data, indent=2).decode())
