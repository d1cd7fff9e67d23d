"""Back up and restore an embedded Tenure (SQLite + inbox + Parquet) while it runs.

What a backup holds: the operational database and the inbox, each copied with SQLite's online
backup API (a consistent snapshot while the server writes; a plain file copy of a database in
WAL mode can tear), the Parquet event files, and every other file of the data dir that is state
rather than a lock or a scratch folder (secret key, churn models, roll-ups, scorecard,
simulation metadata). ``manifest.json`` is written last: a folder without one is not a backup.

Events and compaction. Compaction writes Parquet files, then marks their rows compacted in the
inbox. A backup that copied the inbox before that mark and the files after it would hold those
events twice; the other way round, not at all. So the inbox and the Parquet files are copied
while holding the event store's writer lock — the lock compaction and bulk Parquet writers
(imports, the simulator) already take. A compaction that starts meanwhile answers "another
compaction holds the lock" and runs on its next tick; ingest never waits, it only appends to
the inbox, and what it appends after the inbox snapshot is simply not in this backup. Ordering
alone (inbox first, then the files it makes visible) would cover compaction but not a bulk
write in flight, which could be caught half-copied; the lock covers both.

PostgreSQL: ``backup`` refuses and says how (``pg_dump``, docs/deploy.md). The dump must come
from a pg_dump at least as new as the server, with the operator's credentials and TLS options,
and production PostgreSQL usually has its own backups (WAL archiving, point-in-time recovery)
that a second, partial mechanism here would only shadow.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel

from tenure import __version__
from tenure.config import Settings
from tenure.errors import Conflict, InvalidInput
from tenure.store.events.embedded import EmbeddedEvents

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE_FILE = "tenure.db"
INBOX_FILE = "inbox.db"
EVENTS_FOLDER = "events"
# Locks, heartbeats and scratch space belong to the running processes, not to the data.
SKIPPED_NAMES = {"staging", "simulation-staging", "worker.heartbeat"}
SKIPPED_SUFFIXES = (".lock", ".tmp", "-wal", "-shm", "-journal")
POSTGRES_HOWTO = (
    "the database is PostgreSQL: back it up with pg_dump, e.g. "
    '`pg_dump --format=custom --file=tenure.dump "$TENURE_DATABASE_URL"` (restore with '
    "`pg_restore --clean --if-exists --dbname=…`), and copy the data dir's secret_key and "
    "models/ beside it; see docs/deploy.md#backups. `tenure backup` covers the embedded "
    "(SQLite) mode."
)


class BackupFile(BaseModel):
    name: str
    bytes: int


class BackupManifest(BaseModel):
    format: int
    tenure_version: str
    created_at: datetime
    files: list[BackupFile]

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


class BackupReport(BaseModel):
    folder: str
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class _Paths:
    data_dir: Path
    database: Path

    @classmethod
    def of(cls, settings: Settings) -> _Paths:
        if settings.is_postgres:
            raise Conflict(POSTGRES_HOWTO)
        database = sa.make_url(settings.resolved_database_url).database
        if not database or database == ":memory:":
            raise InvalidInput("an in-memory database has nothing to back up")
        return cls(settings.data_dir.resolve(), Path(database).resolve())


def backup(
    settings: Settings,
    target: Path,
    *,
    now: datetime,
    during_events: Callable[[], None] | None = None,
) -> BackupReport:
    """Copy the embedded stores into ``target`` (new or empty), consistent while they run.

    ``during_events`` runs while the event files are being copied (the writer lock held): the
    tests start a compaction there and see it refused.
    """
    started = time.perf_counter()
    paths = _Paths.of(settings)
    _require_empty(target, "backup folder", "choose a new folder")
    target.mkdir(parents=True, exist_ok=True)
    events = EmbeddedEvents(paths.data_dir)
    try:
        with events.writer_lock():
            _sqlite_backup(events.inbox.path, target / INBOX_FILE)
            if events.parquet_dir.exists():
                _copy_tree(events.parquet_dir, target / EVENTS_FOLDER)
            if during_events is not None:
                during_events()
    finally:
        events.close()
    _sqlite_backup(paths.database, target / DATABASE_FILE)
    for path in _state_files(paths):
        _copy_file(path, target / path.relative_to(paths.data_dir))
    manifest = BackupManifest(
        format=FORMAT,
        tenure_version=__version__,
        created_at=now,
        files=[
            BackupFile(name=p.relative_to(target).as_posix(), bytes=p.stat().st_size)
            for p in sorted(_walk(target))
        ],
    )
    _write_durably(target / MANIFEST, manifest.model_dump_json(indent=2))
    return BackupReport(
        folder=str(target.resolve()),
        files=len(manifest.files),
        bytes=manifest.bytes,
        seconds=round(time.perf_counter() - started, 3),
    )


def restore(settings: Settings, source: Path, *, force: bool = False) -> BackupReport:
    """Put a backup in place of this installation's stores (empty unless ``force``).

    Stop the server and workers first: they hold the old database open.
    """
    started = time.perf_counter()
    paths = _Paths.of(settings)
    manifest = read_manifest(source)
    occupied = _occupied(paths)
    if occupied and not force:
        raise Conflict(
            f"{occupied} already holds data; restore into an empty data dir, or pass --force "
            "to replace it (stop the server first)"
        )
    if force:
        _clear(paths)
    for item in manifest.files:
        # The database goes where the settings put it, which may be outside the data dir.
        destination = paths.database if item.name == DATABASE_FILE else paths.data_dir / item.name
        _copy_file(source / item.name, destination)
    return BackupReport(
        folder=str(source.resolve()),
        files=len(manifest.files),
        bytes=manifest.bytes,
        seconds=round(time.perf_counter() - started, 3),
    )


def read_manifest(source: Path) -> BackupManifest:
    path = source / MANIFEST
    if not path.is_file():
        raise InvalidInput(
            f"{source} is not a complete Tenure backup: {MANIFEST} is missing (a backup "
            "writes it last, so an interrupted one has none)"
        )
    manifest = BackupManifest.model_validate_json(path.read_text())
    if manifest.format != FORMAT:
        raise InvalidInput(f"{path}: backup format {manifest.format}, this Tenure reads {FORMAT}")
    for item in manifest.files:
        found = source / item.name
        if not found.is_file() or found.stat().st_size != item.bytes:
            raise InvalidInput(f"{found}: missing or not {item.bytes} bytes as {MANIFEST} says")
    return manifest


def _sqlite_backup(origin: Path, destination: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections read and write."""
    if not origin.exists():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{origin}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(destination)
    try:
        source.backup(copy)
        # WAL like the original (the inbox sets it only when it creates the file); closing the
        # last connection checkpoints, so the copy is one self-contained file.
        copy.execute("PRAGMA journal_mode=WAL")
    finally:
        copy.close()
        source.close()
    _fsync(destination)


def _state_files(paths: _Paths) -> Iterator[Path]:
    stores = {paths.database, paths.data_dir / INBOX_FILE}
    for path in sorted(_walk(paths.data_dir)):
        relative = path.relative_to(paths.data_dir)
        if relative.parts[0] == EVENTS_FOLDER or path in stores:
            continue
        if _skipped(relative):
            continue
        yield path


def _skipped(relative: Path) -> bool:
    return any(
        part in SKIPPED_NAMES or part.endswith(SKIPPED_SUFFIXES) or part.startswith(".readyz-")
        for part in relative.parts
    )


def _walk(folder: Path) -> Iterator[Path]:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            yield Path(root) / name


def _copy_tree(origin: Path, destination: Path) -> None:
    for path in sorted(_walk(origin)):
        relative = path.relative_to(origin)
        if not _skipped(relative):
            _copy_file(path, destination / relative)


def _copy_file(origin: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(origin, destination)
    _fsync(destination)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _write_durably(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    _fsync(temporary)
    temporary.rename(path)


def _require_empty(folder: Path, what: str, hint: str) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise Conflict(f"{what} {folder} is not empty; {hint}")


def _occupied(paths: _Paths) -> Path | None:
    if paths.database.exists():
        return paths.database
    if paths.data_dir.exists() and any(
        not _skipped(p.relative_to(paths.data_dir)) for p in _walk(paths.data_dir)
    ):
        return paths.data_dir
    return None


def _clear(paths: _Paths) -> None:
    """Remove what a restore replaces: the databases (with their WAL files) and the data dir."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{paths.database}{suffix}").unlink(missing_ok=True)
    if paths.data_dir.exists():
        for entry in paths.data_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
