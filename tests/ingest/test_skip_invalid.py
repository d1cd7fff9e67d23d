"""--skip-invalid keeps the good rows beside an invalid one: a two-row file with one bad priority
stores the good row (it was refused whole as "the file has no rows", losing the good one — and a
connector's batch with it)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from tenure.ingest.files import FileFormat
from tenure.ingest.importer import import_records
from tenure.ingest.request import ImportRequest
from tests import factories as f

ROWS = (
    "external_id,account_external_id,priority,opened_at\n"
    "T-1,acme,high,2026-11-02T09:00:00Z\n"
    "T-2,acme,whenever,2026-11-03T09:00:00Z\n"
)


def test_a_good_row_beside_an_invalid_one_is_stored(session: Session, tmp_path: Path) -> None:
    f.account(session, external_id="acme")
    path = tmp_path / "tickets.csv"
    path.write_text(ROWS)
    report = import_records(
        session, ImportRequest("tickets", path, format=FileFormat.csv, skip_invalid=True)
    )
    assert (report.inserted, report.rejected) == (1, 1)
    assert [(e.line, e.column) for e in report.rejects] == [(3, "priority")]
