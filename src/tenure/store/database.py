"""Engines and sessions for the operational database: SQLite embedded, PostgreSQL in production.

Engines are built by the surface (CLI callback, app lifespan), never at import time.
Services flush; the surface commits (see ``session_scope``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the server, imports and jobs read while one writes; FULL makes a commit durable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def begin_as_writer(session: Session) -> None:
    """On SQLite, begin the session's transaction holding the write lock (``BEGIN IMMEDIATE``).

    In WAL mode a transaction that reads and only then writes fails at once with "database is
    locked" when another connection committed in between (its snapshot is stale, and SQLite
    cannot wait that out); a sign-in committing meanwhile failed the daily run's metrics. Holding
    the lock from the start, the others wait their turn instead (``busy_timeout``) — so hold it
    only around short work: the daily run takes it per step, for the steps that change what they
    read (jobs.daily). A transaction whose first statement writes needs none of this (SQLite
    takes the lock with the write, waiting if it must). PostgreSQL needs nothing.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit of work a surface owns: commit at the end, roll back everything on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
