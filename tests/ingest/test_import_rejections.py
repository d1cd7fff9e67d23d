"""A file with any bad row is refused whole: every bad row reported at its line and column,
nothing written, and what was stored before left as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, RejectedFile, RowError
from tenure.ingest import runs
from tenure.ingest.importer import read_valid_rows
from tenure.ingest.request import ImportRequest
from tenure.ingest.runs import record_rejection
from tenure.model import Account, Contact, Contract
from tests.ingest.helpers import run_import

STORED = b"external_id,name,industry\nacme,Acme,Retail\nglobex,Globex,Energy\n"

# (entity, file name, content, [(line, column, reason fragment)])
CASES = [
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name,employee_count\nacme,Acme Renamed,many\n",
        [(2, "employee_count", "valid integer")],
        id="wrong-type",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\nnew1,New One\n,Nameless id\n",
        [(3, "external_id", "required value is missing")],
        id="missing-id",
    ),
    pytest.param(
        "contacts",
        "c.csv",
        b"external_id,account_external_id,name\nc1,acme,Ann\nc2,initech,Bob\n",
        [
            (
                3,
                "account_external_id",
                "no account with external id 'initech' (import accounts first)",
            )
        ],
        id="unknown-account",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\nnew1,One\nnew2,Two\nnew1,One again\n",
        [(4, "external_id", "duplicate external_id: already on line 2")],
        id="duplicate-id",
    ),
    pytest.param(
        "contracts",
        "k.csv",
        b"external_id,account_external_id,starts_on,ends_on,arr,status\n"
        b"k1,acme,2024-01-01,2024-12-31,1000,live\n",
        [(2, "status", "'active', 'ended', 'cancelled' or 'pending'")],
        id="bad-enum",
    ),
    pytest.param(
        "contracts",
        "k.csv",
        b"external_id,account_external_id,starts_on,ends_on,arr\nk1,acme,01/02/2024,2024-12-31,1000\n",
        [(2, "starts_on", "expected an ISO 8601 date YYYY-MM-DD")],
        id="bad-date",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\nnew1,Caf\xc3\xa9 OK\nnew2,Caf\xe9 Latin-1\n",
        [(3, "name", "byte e9 at position 9 of the line is not valid utf-8")],
        id="broken-encoding",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        # UTF-16 without a byte-order mark reads as UTF-8 with NULs (with a BOM it imports).
        "external_id,name\nnew1,One\n".encode("utf-16-le"),
        [(1, None, "a NUL character")],
        id="utf-16-without-bom",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\nnew1,One\nnew2,Tw\x00o\n",
        [(3, "name", "a NUL character at position 8")],
        id="nul-byte",
    ),
    pytest.param(
        "accounts",
        "a.jsonl",
        b'{"external_id": "new1", "name": "\\u0000"}\n' + b"[" * 50_000 + b"]" * 50_000 + b"\n",
        [(1, "name", "contains a NUL character"), (2, None, "JSON nested too deeply")],
        id="jsonl-nul-and-deep",
    ),
    pytest.param("accounts", "a.csv", b"", [(1, None, "the file is empty")], id="empty-file"),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\n",
        [(2, None, "the file has no rows")],
        id="header-only",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,industry\nnew1,Retail\n",
        [(1, "name", "required column is missing")],
        id="missing-column",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name,nmae\nnew1,One,x\n",
        [(1, "nmae", "unknown column"), (1, None, "no shipped mapping fits these columns")],
        id="unknown-column",
    ),
    pytest.param(
        "accounts",
        "a.csv",
        b"external_id,name\nnew1,One,extra\n",
        [(2, None, "the row has 3 fields but the header has 2")],
        id="ragged-row",
    ),
    pytest.param(
        "accounts",
        "a.jsonl",
        b'{"external_id": "new1", "name": "One"}\n{"external_id": "new2", name: 2}\n'
        b'{"external_id": "new3"}\n[1, 2]\n',
        [
            (2, None, "not valid JSON"),
            (3, "name", "required value is missing"),
            (4, None, "each line must be a JSON object"),
        ],
        id="jsonl-lines",
    ),
    pytest.param(
        "accounts",
        "a.parquet",
        b"PAR1 this is not parquet",
        [(1, None, "not a readable Parquet file")],
        id="corrupt-parquet",
    ),
    pytest.param(
        "accounts",
        "a.txt",
        b"external_id,name\nnew1,One\n",
        [(1, None, "cannot tell the format")],
        id="unknown-extension",
    ),
    pytest.param(
        "surveys",
        "s.csv",
        b"external_id,account_external_id,score,kind,responded_at\n"
        b"s1,acme,11,nps,2024-01-01T00:00:00Z\n"
        b"s2,acme,3,csat,2024-01-01\n"
        b"s3,acme,7,nps,2024-01-01T00:00:00Z\n",
        [
            (2, "score", "score 11 is outside the nps scale 0–10"),
            (3, "responded_at", "expected an ISO 8601 date and time"),
        ],
        id="every-bad-row-listed",
    ),
]


def _snapshot(session: Session) -> list[tuple[str, str, str | None]]:
    rows = session.execute(
        sa.select(Account.external_id, Account.name, Account.industry).order_by(Account.external_id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize(("entity", "name", "content", "expected"), CASES)
def test_bad_file_is_rejected_whole(
    session: Session,
    tmp_path: Path,
    entity: str,
    name: str,
    content: bytes,
    expected: list[tuple[int, str | None, str]],
) -> None:
    stored = tmp_path / "stored.csv"
    stored.write_bytes(STORED)
    run_import(session, "accounts", stored)
    before = _snapshot(session)

    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, entity, bad)

    errors = rejected.value.errors
    assert [(e.line, e.column) for e in errors] == [(line, column) for line, column, _ in expected]
    for error, (_, _, fragment) in zip(errors, expected, strict=True):
        assert fragment in error.reason
    assert rejected.value.path == str(bad)
    # Nothing written, nothing stored before changed.
    session.expire_all()
    assert _snapshot(session) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0


def test_errors_carry_the_offending_value(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "a.csv"
    bad.write_text("external_id,name,employee_count,created_on\nx,X,-3,2024-02-30\n")
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "accounts", bad)
    assert [(e.column, e.value) for e in rejected.value.errors] == [
        ("created_on", "2024-02-30"),
        ("employee_count", "-3"),
    ]
    assert "not a calendar date" in rejected.value.errors[0].reason
    assert "line 2, column 'employee_count' (value '-3')" in rejected.value.message


def test_a_multi_line_csv_record_is_reported_at_its_first_line(
    session: Session, tmp_path: Path
) -> None:
    bad = tmp_path / "a.csv"
    bad.write_text('external_id,name,employee_count\nx,"Two\nline name",1\ny,Y,lots\n')
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "accounts", bad)
    assert [(e.line, e.column) for e in rejected.value.errors] == [(4, "employee_count")]


def test_bad_parquet_rows_are_numbered_from_one(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    table = pa.table({"external_id": ["a", "b", None], "name": ["A", "B", "C"]})
    pq.write_table(table, path)
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "accounts", path)
    assert [(e.line, e.column) for e in rejected.value.errors] == [(3, "external_id")]


def test_an_update_in_a_rejected_file_leaves_the_stored_row(
    session: Session, tmp_path: Path
) -> None:
    stored = tmp_path / "stored.csv"
    stored.write_bytes(STORED)
    run_import(session, "accounts", stored)
    bad = tmp_path / "update.csv"
    bad.write_text("external_id,name,industry\nacme,Acme Renamed,Wholesale\nglobex,,Energy\n")
    with pytest.raises(RejectedFile):
        run_import(session, "accounts", bad)
    session.expire_all()
    assert ("acme", "Acme", "Retail") in _snapshot(session)


def test_a_windows_export_imports_with_its_encoding(session: Session, tmp_path: Path) -> None:
    export = tmp_path / "excel.csv"
    export.write_bytes(b"external_id,name\nk1,K\xf6ln GmbH\n")
    with pytest.raises(RejectedFile, match="pass --encoding cp1252"):
        read_valid_rows(ImportRequest("accounts", export, encoding="utf-8"))
    for encoding in ("cp1252", None):  # given, or told from the file
        rows = read_valid_rows(ImportRequest("accounts", export, encoding=encoding))
        assert [(line, row.name) for line, row in rows] == [(2, "Köln GmbH")]  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="unknown text encoding 'latin-9x'"):
        read_valid_rows(ImportRequest("accounts", export, encoding="latin-9x"))


def test_cross_field_errors_name_the_field_they_blame(session: Session, tmp_path: Path) -> None:
    stored = tmp_path / "stored.csv"
    stored.write_bytes(STORED)
    run_import(session, "accounts", stored)
    bad = tmp_path / "k.csv"
    bad.write_text(
        "external_id,account_external_id,starts_on,ends_on,arr\nk1,acme,2024-06-01,2024-01-01,10\n"
    )
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "contracts", bad)
    assert [(e.line, e.column, e.reason) for e in rejected.value.errors] == [
        (2, "ends_on", "ends_on is before starts_on")
    ]


def test_the_history_keeps_a_bounded_number_of_errors(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runs, "STORED_ERRORS", 2)
    errors = [RowError(line, "name", None, "required value is missing") for line in (2, 3, 4, 5)]
    request = ImportRequest("accounts", tmp_path / "a.csv")
    run = record_rejection(
        session, request, RejectedFile("a.csv", errors), started_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert [(e["line"], e["reason"]) for e in run.errors] == [
        (2, "required value is missing"),
        (3, "required value is missing"),
        (4, "… and 2 more errors, not stored"),
    ]
    assert (run.status, run.rows, run.file_name) == ("rejected", 0, "a.csv")
