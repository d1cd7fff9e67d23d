"""What every CLI command needs: settings, a migrated database, a unit of work, error rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
import typer
from rich.console import Console
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor, system_actor
from tenure.config import Settings, get_settings
from tenure.errors import TenureError
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, open_event_store
from tenure.store.migrate import is_current, upgrade

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    return get_settings()


def database(config: Settings | None = None) -> sa.Engine:
    """The operational database, migrated to the current schema on first use."""
    config = config or settings()
    engine = create_engine(config.resolved_database_url)
    if not is_current(engine):
        upgrade(engine)
    return engine


@contextmanager
def unit_of_work(config: Settings | None = None) -> Iterator[Session]:
    """One transaction for one command: everything commits at the end, or nothing does."""
    engine = database(config)
    try:
        with session_scope(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def cli_actor(session: Session) -> Actor:
    """The OS user running this command, as the actor its changes are audited under."""
    import getpass

    return system_actor(session, getpass.getuser())


def event_store(config: Settings | None = None) -> EventStore:
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

    return wrapper


def print_json(data: Any) -> None:
    """Machine-readable output for --json (pydantic models, lists or dicts)."""
    from pydantic import BaseModel, TypeAdapter

    if isinstance(data, BaseModel):
        typer.echo(data.model_dump_json(indent=2))
    else:
        typer.echo(TypeAdapter(type(data)).dump_json(data, indent=2).decode())
