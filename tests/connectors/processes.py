"""The CLI in a process of its own, for the connectors' end-to-end tests: run it, kill a sync at
a request, read the sync runs' statuses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from tenure.model import SyncRun
from tenure.store.database import create_engine

SRC = Path(__file__).resolve().parents[2] / "src"


class Fake(Protocol):
    on_request: Callable[[str], None] | None


def tenure(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tenure.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def sync_killed_at(env: dict[str, str], fake: Fake, path: Callable[[str], bool], nth: int) -> None:
    """``tenure connect sync`` SIGKILLed as it makes its ``nth`` request (from 1) to a path
    ``path`` accepts: what it stored before stays, the request in flight is never answered."""
    sync = subprocess.Popen(
        [sys.executable, "-m", "tenure.cli.main", "connect", "sync"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen: list[str] = []

    def kill(requested: str) -> None:
        if not path(requested):
            return
        seen.append(requested)
        if len(seen) == nth:
            os.kill(sync.pid, signal.SIGKILL)
            sync.wait(timeout=60)

    fake.on_request = kill
    try:
        sync.wait(timeout=300)
    finally:
        fake.on_request = None
    assert sync.returncode == -signal.SIGKILL


def read_book(
    database_url: str, queries: dict[str, sa.Select[Any]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Each query's rows, on a database another process wrote."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                name: [tuple(row) for row in connection.execute(query)]
                for name, query in queries.items()
            }
    finally:
        engine.dispose()


def run_statuses(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(sa.select(SyncRun.status).order_by(SyncRun.id)))
    finally:
        engine.dispose()
