"""The import check of a large upload, out of the web request: a background process reads the
staged file as :func:`tenure.ingest.preview.preview_import` does, writing how far it got and
then its result beside the upload; the page shows the progress and then the result.

A file up to :data:`CHECK_IN_REQUEST_BYTES` is checked inside the request (about a second);
a larger one (13 s for 200,000 rows) in the background. Nothing is lost when the check fails
or its process dies: the upload stays staged, the page says what happened in words and offers
to check it again.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tenure.auth.permissions import Actor
from tenure.config import Settings
from tenure.errors import InvalidInput, NotFound, TenureError
from tenure.ingest import preview
from tenure.ingest.entities import ENTITIES
from tenure.ingest.mappings import load_mapping, shipped_mappings
from tenure.ingest.provenance import load_precedence
from tenure.ingest.request import ImportRequest
from tenure.jobs.background import start_child
from tenure.model.base import utcnow

# Up to this size (about 10,000 rows of a CRM export) the check runs inside the request.
CHECK_IN_REQUEST_BYTES = 1 << 20
# A running check rewrites its status at least this often; one silent for STALE_AFTER_SECONDS
# has died (the server stopped): the page offers to check again.
HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 60.0
CHECKS = ".checks"


class CheckStatus(BaseModel):
    """How far the background check of one staged upload (as one kind, one layout) got."""

    state: Literal["running", "done", "failed"]
    read_bytes: int = 0
    total_bytes: int | None = None
    message: str | None = None
    started_at: datetime
    updated_at: datetime

    @property
    def percent(self) -> int:
        if not self.total_bytes:
            return 0
        return min(100, round(100 * self.read_bytes / self.total_bytes))

    def stale(self, now: datetime) -> bool:
        return (
            self.state == "running"
            and (now - self.updated_at).total_seconds() > STALE_AFTER_SECONDS
        )


def import_request(
    settings: Settings, kind: str, path: Path, mapping: str, skip: bool
) -> ImportRequest:
    """The console's import of a staged file: its kind, the chosen layout (or none: found from
    the header) and whether bad rows are left out."""
    if kind not in ENTITIES:
        raise InvalidInput(f"choose what the file holds: one of {', '.join(ENTITIES)}")
    if mapping and mapping not in shipped_mappings():
        raise InvalidInput(f"no such column layout {mapping!r}")
    return ImportRequest(
        kind,
        path,
        load_mapping(mapping) if mapping else None,
        skip_invalid=skip and kind != "events",
        precedence=load_precedence(settings.import_precedence),
    )


def checked_in_request(path: Path) -> bool:
    return path.stat().st_size <= CHECK_IN_REQUEST_BYTES


def _paths(data_dir: Path, token: str, kind: str, mapping: str) -> tuple[Path, Path]:
    folder = preview.staged_folder(data_dir, token) / CHECKS
    name = f"{kind}-{mapping or 'found'}"
    return folder / f"{name}.status.json", folder / f"{name}.result.json"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_suffix(".tmp")
    spare.write_text(text)
    os.replace(spare, path)  # a reader never sees half a file


def check_status(data_dir: Path, token: str, kind: str, mapping: str) -> CheckStatus | None:
    status_path, _ = _paths(data_dir, token, kind, mapping)
    if not status_path.is_file():
        return None
    return CheckStatus.model_validate_json(status_path.read_text())


def check_result(data_dir: Path, token: str, kind: str, mapping: str) -> preview.ImportPreview:
    _, result_path = _paths(data_dir, token, kind, mapping)
    if not result_path.is_file():
        raise NotFound("this upload has not been checked yet")
    return preview.ImportPreview.model_validate_json(result_path.read_text())


def start_check(settings: Settings, token: str, kind: str, mapping: str, actor: Actor) -> None:
    """Check the staged upload in a background process (the reader must be allowed to import:
    refused here, before anything starts)."""
    from tenure.ingest.service import check_importer

    check_importer(actor)
    path = preview.staged_file(settings.data_dir, token)
    import_request(settings, kind, path, mapping, False)  # a bad kind or layout: refused now
    status_path, _ = _paths(settings.data_dir, token, kind, mapping)
    now = utcnow()
    running = CheckStatus(
        state="running", total_bytes=path.stat().st_size, started_at=now, updated_at=now
    )
    _write(status_path, running.model_dump_json())
    start_child("import-check", _check_in_background, settings, token, kind, mapping, actor.id)


class _FileProgress:
    """Progress written to the status file (at most every half second, and by a heartbeat)."""

    def __init__(self, path: Path, status: CheckStatus) -> None:
        self.path, self.status = path, status
        self.written = 0.0
        self.lock = threading.Lock()

    def start(self, description: str, total: int | None) -> None:
        self.status.total_bytes = total or self.status.total_bytes
        self.write(force=True)

    def advance(self, amount: int) -> None:
        self.status.read_bytes += amount
        self.write()

    def write(self, force: bool = False) -> None:
        with self.lock:
            if force or time.monotonic() - self.written >= 0.5:
                self.status.updated_at = utcnow()
                _write(self.path, self.status.model_dump_json())
                self.written = time.monotonic()


def _check_in_background(
    settings: Settings, token: str, kind: str, mapping: str, user_id: int, *, stop: threading.Event
) -> None:
    from tenure.model import User
    from tenure.store.database import create_engine, session_factory, session_scope

    status_path, result_path = _paths(settings.data_dir, token, kind, mapping)
    status = CheckStatus.model_validate_json(status_path.read_text())
    progress = _FileProgress(status_path, status)
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            progress.write(force=True)

    threading.Thread(target=heartbeat, daemon=True).start()
    engine = create_engine(settings.resolved_database_url)
    try:
        path = preview.staged_file(settings.data_dir, token)
        request = import_request(settings, kind, path, mapping, False)
        with session_scope(session_factory(engine)) as session:
            actor = Actor(session.get_one(User, user_id), "web")
            result = preview.preview_import(session, request, actor, progress=progress)
            session.rollback()  # a check writes nothing
        _write(result_path, result.model_dump_json())
        status.state = "done"
    except TenureError as error:
        status.state, status.message = "failed", error.message
    except Exception as error:
        status.state = "failed"
        status.message = f"the check stopped on an unexpected error ({type(error).__name__})"
        raise
    finally:
        done.set()
        progress.write(force=True)
        engine.dispose()
