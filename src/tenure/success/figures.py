"""Stored figures: what the daily run computes once so that pages read it (KPIs, cohorts,
maturity), and how a page knows the stored figures are still the ones it would compute.

Two fingerprints guard them:
- the **settings digest** — the settings the figures depend on (the reporting currency, the fit
  criteria) and the source of the code computing them: checked on every read (a few
  milliseconds), so a changed setting or formula is never shown from old figures;
- the **inputs digest** — every record the figures read, hashed by the daily run: figures whose
  inputs did not change are kept, the others recomputed (a late import changes them).

A stored figure is exactly what the computation returns: the stored value is its JSON dump.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import FigureSnapshot
from tenure.model.base import utcnow
from tenure.store.database import begin_as_writer


def digest(*parts: object) -> str:
    """A short stable fingerprint of ``parts`` (their ``repr``)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def code_digest(*modules: ModuleType | str) -> str:
    """The source of the modules (or module names) computing a figure: stored figures of older
    code are stale. Best called when those modules are imported (a module constant): it then
    names the code the process runs, not files an upgrade replaced under it."""
    h = hashlib.blake2b(digest_size=16)
    for module in modules:
        found = importlib.import_module(module) if isinstance(module, str) else module
        h.update(Path(str(found.__file__)).read_bytes())
    return h.hexdigest()


def rows_digest(session: Session, statements: Sequence[sa.Executable]) -> str:
    """A fingerprint of every row the statements return (each ordered, so it is stable)."""
    h = hashlib.blake2b(digest_size=16)
    for statement in statements:
        for row in session.execute(statement):
            h.update(repr(tuple(row)).encode())
            h.update(b"\x1e")
        h.update(b"\x1f")
    return h.hexdigest()


def table_changes(session: Session, *tables: type[Any]) -> list[tuple[Any, ...]]:
    """Each table's row count and last change: a cheap fingerprint of what stored figures read,
    so a record added, changed or removed after the daily run is seen by the next view."""
    # One statement of scalar subqueries: each count and each max alone in its own SELECT, so
    # SQLite reads the last change from the end of an ``updated_at`` index (beside count(*)
    # in one SELECT it scans the table) — the tables a rule preview fingerprints have one.
    columns = [
        sa.select(aggregate).select_from(t).scalar_subquery()
        for t in tables
        for aggregate in (sa.func.count(), sa.func.max(t.updated_at))
    ]
    found = tuple(session.execute(sa.select(*columns)).one()) if tables else ()
    return [found[i : i + 2] for i in range(0, len(found), 2)]


# Stored figures once decoded, by what identifies one write (the database, kind, settings, row id
# and time of writing: a write replacing them is a new row written later): pages read the same
# figures until the daily run or a first view replaces them, and decoding them each request cost
# up to 11 ms (the renewal forecast's 700 KB at 10,000 accounts). Shared by every request of the
# process: callers never change what they read.
_DECODED: OrderedDict[tuple[str, str, str, int, datetime], dict[str, Any]] = OrderedDict()
_DECODED_KEPT = 16
_DECODED_LOCK = threading.Lock()


def last_changes(session: Session, *tables: type[Any]) -> tuple[Any, ...]:
    """Each table's last change, read from its ``updated_at`` index (migration 0361) in one
    statement: cheaper than :func:`table_changes` on a large table (no row count), it sees every
    row added or changed, not a row deleted."""
    latest = [sa.select(sa.func.max(t.updated_at)).scalar_subquery() for t in tables]
    return tuple(session.execute(sa.select(*latest)).one())


def read_snapshot(
    session: Session, kind: str, settings_digest: str
) -> tuple[dict[str, Any], date] | None:
    """The stored figures of ``kind`` and the day they were computed, unless their settings or
    code changed since. The figures are shared with other readers: never change them."""
    row = session.execute(
        sa.select(FigureSnapshot.id, FigureSnapshot.computed_at, FigureSnapshot.computed_on).where(
            FigureSnapshot.kind == kind, FigureSnapshot.settings_digest == settings_digest
        )
    ).first()
    if row is None:
        return None
    key = (str(session.get_bind().engine.url), kind, settings_digest, row.id, row.computed_at)
    with _DECODED_LOCK:
        data = _DECODED.get(key)
    if data is None:
        data = session.scalar(sa.select(FigureSnapshot.data).where(FigureSnapshot.id == row.id))
        if data is None:  # replaced between the two reads: read again
            return read_snapshot(session, kind, settings_digest)
        with _DECODED_LOCK:
            _DECODED[key] = data
            while len(_DECODED) > _DECODED_KEPT:
                _DECODED.popitem(last=False)
    return data, row.computed_on


@contextmanager
def unless_stored_meanwhile(session: Session) -> Iterator[None]:
    """Store figures in a savepoint: when another request stores the same figures at the same
    moment (two first views of a page on a base with nothing stored), its unique key stops this
    one, whose figures are dropped — both computed the same — instead of failing the page. So
    does SQLite refusing the write of a request that read before another one committed ("database
    is locked" at once in WAL mode): the page shows what it computed, the daily run stores it.

    On SQLite a savepoint opened outside a transaction *is* the transaction, and releasing it
    commits: the KPIs step's first quarters stayed stored when a later one failed. So a
    transaction holding the write lock is begun first (``begin_as_writer``; nothing when one is
    open), and the surface's commit or rollback decides for everything, savepoints included."""
    begin_as_writer(session)
    try:
        with session.begin_nested():
            yield
    except sa.exc.IntegrityError:
        pass
    except sa.exc.OperationalError as error:
        if "database is locked" not in str(error.orig):
            raise


def write_snapshot(
    session: Session, kind: str, settings_digest: str, computed_on: date, data: dict[str, Any]
) -> None:
    """Replace the stored figures of ``kind``."""
    with unless_stored_meanwhile(session):
        session.execute(sa.delete(FigureSnapshot).where(FigureSnapshot.kind == kind))
        session.add(
            FigureSnapshot(
                kind=kind,
                settings_digest=settings_digest,
                computed_on=computed_on,
                computed_at=utcnow(),
                data=data,
            )
        )
        session.flush()
