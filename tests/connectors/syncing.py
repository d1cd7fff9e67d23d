"""In-process sync helpers for the connectors' tests: store a connection as an admin would, run
one sync, read its per-object counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenure.auth.permissions import system_actor
from tenure.connectors import service
from tenure.connectors.schemas import SyncRunRead
from tenure.store.database import session_scope

SECRET = "k" * 48


def connect_vendor(
    factory: sessionmaker[Session], vendor: str, secrets: dict[str, str], url: str, **options: Any
) -> None:
    with session_scope(factory) as session:
        service.connect(
            session,
            system_actor(session, "tester"),
            SECRET,
            vendor,
            secrets=secrets,
            base_url=url,
            **options,
        )


def sync(factory: sessionmaker[Session], data_dir: Path) -> SyncRunRead:
    (run,) = service.sync_all(factory, SECRET, data_dir)
    return run


def counts(run: SyncRunRead) -> dict[str, tuple[int, int, int, int, int]]:
    """Per object: read, new, changed, unchanged, refused."""
    return {
        n: (o.read, o.inserted, o.updated, o.unchanged, o.rejected) for n, o in run.objects.items()
    }
