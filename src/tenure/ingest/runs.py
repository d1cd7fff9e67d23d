"""The import history: every import that stored rows or was refused, with its row errors."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from tenure.accounts.schemas import StoredDatetime
from tenure.errors import RejectedFile, RowError
from tenure.ingest.request import ImportReport, ImportRequest
from tenure.model import ImportRun, SourceIdentity
from tenure.model.base import utcnow


def record_run(session: Session, report: ImportReport, *, started_at: datetime) -> ImportRun:
    """Log a succeeded import; in the same transaction as its rows, so the log never lies."""
    return _add_run(session, report, "succeeded", report.rejects, started_at)


def record_rejection(
    session: Session,
    request: ImportRequest,
    rejected: RejectedFile,
    *,
    started_at: datetime,
) -> ImportRun:
    """Log a refused file with its row errors. Call it in a transaction of its own, after the
    import's transaction has rolled back."""
    nothing = ImportReport(
        entity=request.entity,
        file_name=request.path.name,
        mapping=request.mapping.name if request.mapping else None,
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
    )
    return _add_run(session, nothing, "rejected", rejected.errors, started_at)


def _add_run(
    session: Session,
    report: ImportReport,
    status: str,
    errors: Sequence[RowError],
    started_at: datetime,
) -> ImportRun:
    run = ImportRun(
        entity=report.entity,
        file_name=report.file_name,
        mapping=report.mapping,
        status=status,
        rows=report.rows,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        errors=_stored_errors(errors),
        matched=report.matched,
        conflicts=[c.model_dump(mode="json") for c in report.conflicts[:STORED_ERRORS]],
        started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    ids = report.identity_ids
    for start in range(0, len(ids), 500):
        session.execute(
            sa.update(SourceIdentity)
            .where(SourceIdentity.id.in_(ids[start : start + 500]))
            .values(import_run_id=run.id)
        )
    return run


# Errors kept in the import history per run: enough to fix a file, bounded for the database.
STORED_ERRORS = 10_000


def write_rejects(path: Path, rejects: Sequence[RowError]) -> None:
    """The rows ``skip_invalid`` left out, one problem per line: line, column, value, reason."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "column", "value", "reason"])
        writer.writerows([e.line, e.column or "", e.value or "", e.reason] for e in rejects)


def _stored_errors(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    stored = [error.__dict__ for error in errors[:STORED_ERRORS]]
    if len(errors) > STORED_ERRORS:
        more = len(errors) - STORED_ERRORS
        stored.append(
            RowError(
                errors[STORED_ERRORS].line, None, None, f"… and {more} more errors, not stored"
            ).__dict__
        )
    return stored


class ImportRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    file_name: str
    mapping: str | None
    status: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]]
    matched: int = 0
    conflicts: list[dict[str, Any]] = []
    started_at: StoredDatetime
    finished_at: StoredDatetime | None


def list_runs(session: Session, *, limit: int = 20) -> list[ImportRun]:
    """The most recent imports first."""
    query = sa.select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
    return list(session.scalars(query.limit(limit)))
