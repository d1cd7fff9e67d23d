"""One import as every surface runs it — the CLI's `tenure import`, the API's POST /imports —
with the actor: admins import (the whole book changes), each import is logged in the import
history and the audit log, a refused file is logged after its rows rolled back."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import InvalidInput
from tenure.ingest.importer import import_events, import_records
from tenure.ingest.request import ImportReport, ImportRequest, Progress
from tenure.ingest.runs import record_run
from tenure.model import UserRole
from tenure.model.base import utcnow
from tenure.store.events import EventStore

# An uploaded file's name as kept: letters, digits and . _ - (the extension tells the format).
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_importer(actor: Actor | None) -> None:
    """Imports change the whole book: admins only (``None``: the operator's own CLI)."""
    if actor is not None:
        require_role(actor.user, UserRole.admin)


def import_file(
    session: Session,
    request: ImportRequest,
    actor: Actor | None,
    *,
    store: EventStore | None = None,
    progress: Progress | None = None,
    started_at: datetime | None = None,
) -> ImportReport:
    """Validate and write the file (flush only; the surface commits), log the run and audit it.
    Raises RejectedFile with every bad row; the caller then rolls back and logs the refusal
    (``runs.record_rejection``) in a transaction of its own."""
    check_importer(actor)
    started_at = started_at or utcnow()
    if request.entity == "events":
        if store is None:
            raise InvalidInput("events are imported into the event store: none was given")
        report = import_events(store, request, session=session, progress=progress)
    else:
        report = import_records(session, request, progress=progress)
    run = record_run(session, report, started_at=started_at)
    audit.record(
        session,
        actor,
        "import.file",
        "import_run",
        run.id,
        after=report.model_dump(mode="json"),
        via=None if actor is not None else "cli",
    )
    return report


@contextmanager
def uploaded(data_dir: Path, file_name: str, body: BinaryIO) -> Iterator[Path]:
    """An uploaded file saved under the data folder's staging area for the import to read (an
    import reads a file twice: to check every row, then to write), removed afterwards."""
    name = _UNSAFE.sub("_", Path(file_name or "").name).strip("._") or "upload"
    staging = data_dir / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging, prefix="upload-") as folder:
        path = Path(folder) / name
        with open(path, "wb") as handle:
            shutil.copyfileobj(body, handle, length=1 << 20)
        yield path
