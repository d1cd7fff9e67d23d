"""Is this process ready to serve? The database answers, the inbox and the data dir take writes,
and nothing is still loading (the console and REST API load after a restart, behind ``/v1``).

One report for ``/readyz`` (and anything else that wants it): each check is named, so a 503
says which store failed rather than only that something did. Each check is cheap — one
``SELECT 1``, one empty write transaction on the inbox, one small file created and removed —
because load balancers call it every few seconds.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tenure.store.events import EventStore
from tenure.store.events.embedded import EmbeddedEvents

# A readiness probe must answer within the probe's own timeout (a few seconds), not wait the
# inbox's 30 s busy timeout behind a long write.
INBOX_PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Readiness:
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]


def check_readiness(
    engine: sa.Engine, events: EventStore, data_dir: Path, loading: Mapping[str, str] | None = None
) -> Readiness:
    """``loading`` names what this process is still loading (name → what it is doing): each
    is a failing check, so the process is not ready until every part of it answers."""
    checks = [
        _run("database", lambda: _database(engine)),
        _run("data_dir", lambda: _data_dir(data_dir)),
    ]
    if isinstance(events.storage, EmbeddedEvents):  # on PostgreSQL the database check covers it
        inbox_path = events.storage.inbox.path
        checks.append(_run("inbox", lambda: _inbox(inbox_path)))
    checks += [Check(name, False, detail) for name, detail in (loading or {}).items()]
    return Readiness(checks)


def _run(name: str, probe: Callable[[], None]) -> Check:
    try:
        probe()
    except Exception as error:  # a probe reports any failure; it never raises
        return Check(name, False, f"{type(error).__name__}: {error}")
    return Check(name, True)


def _database(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _data_dir(data_dir: Path) -> None:
    # With TENURE_SECRET_KEY set and events in PostgreSQL nothing else may have made it yet.
    data_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".readyz-", dir=data_dir)
    try:
        os.write(handle, b"ok")
    finally:
        os.close(handle)
        os.unlink(name)


def _inbox(path: Path) -> None:
    """Take the inbox's write lock and let go: appends would succeed now (full disk, read-only
    file and a writer stuck for longer than the probe all fail here)."""
    if not path.exists():
        raise FileNotFoundError(f"inbox {path} does not exist")
    db = sqlite3.connect(path, timeout=INBOX_PROBE_TIMEOUT_S, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    finally:
        db.close()
