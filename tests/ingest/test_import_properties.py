"""Property tests for the file parsers: valid files round-trip exactly, and no input whatsoever
fails with anything but a RejectedFile."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tenure.accounts.schemas import AccountCreate
from tenure.errors import RejectedFile
from tenure.ingest.importer import import_records, read_valid_rows
from tenure.ingest.mappings import load_mapping
from tenure.ingest.request import ImportRequest
from tenure.model import Account
from tests.stored import stored_all

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# Any printable text, with the characters CSV must quote; no control characters but newlines.
cell_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from([",", '"', "\n", "\r", ";"]),
    max_size=20,
)
# Values are trimmed on import, so generate them already trimmed: a word character at each end.
edge = st.sampled_from("aZ0é_")
trimmed = st.builds(lambda a, middle, b: a + middle + b, edge, cell_text, edge)

account_rows = st.lists(
    st.fixed_dictionaries(
        {
            "external_id": trimmed.filter(lambda s: len(s) <= 128),
            "name": trimmed,
            "industry": st.none() | trimmed,
            "employee_count": st.none() | st.integers(0, 10**9),
            "created_on": st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)),
        }
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda row: row["external_id"],
)


def _write_csv(rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def _read(content: bytes, suffix: str, entity: str = "accounts") -> list[object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"file{suffix}"
        path.write_bytes(content)
        return [row for _, row in read_valid_rows(ImportRequest(entity, path))]


@PROPERTY_SETTINGS
@given(account_rows)
def test_any_valid_accounts_csv_round_trips(rows: list[dict[str, object]]) -> None:
    parsed = _read(_write_csv(rows), ".csv")
    assert parsed == [AccountCreate.model_validate(row) for row in rows]
    assert [p.name for p in parsed] == [row["name"] for row in rows]  # type: ignore[attr-defined]


@PROPERTY_SETTINGS
@given(account_rows)
def test_any_valid_accounts_jsonl_round_trips(rows: list[dict[str, object]]) -> None:
    content = "".join(json.dumps(row, default=str) + "\n" for row in rows).encode()
    assert _read(content, ".jsonl") == [AccountCreate.model_validate(row) for row in rows]


garbage = st.binary(max_size=300) | st.builds(
    lambda tail: b"external_id,name,employee_count\n" + tail, st.binary(max_size=200)
)


@PROPERTY_SETTINGS
@given(garbage, st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_arbitrary_bytes_never_crash(content: bytes, suffix: str) -> None:
    try:
        _read(content, suffix)
    except RejectedFile as rejected:
        assert rejected.errors
        assert all(error.line >= 1 for error in rejected.errors)


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(st.text(max_size=200), st.sampled_from(["accounts", "events", "touchpoints"]))
def test_arbitrary_text_never_crashes(text: str, entity: str) -> None:
    for suffix in (".csv", ".jsonl"):
        with contextlib.suppress(RejectedFile):
            _read(text.encode("utf-8", errors="surrogatepass"), suffix, entity)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=account_rows)
def test_any_valid_accounts_csv_round_trips_through_the_database(
    session: Session, rows: list[dict[str, object]]
) -> None:
    savepoint = session.begin_nested()  # each example starts from an empty table
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "accounts.csv"
            path.write_bytes(_write_csv(rows))
            report = import_records(session, ImportRequest("accounts", path))
            assert (report.inserted, report.updated, report.unchanged) == (len(rows), 0, 0)
            session.expire_all()
            stored = {
                a.external_id: (a.name, a.industry, a.employee_count, a.created_on)
                for a in stored_all(session, Account, Account.name)
            }
            assert stored == {
                row["external_id"]: (
                    row["name"],
                    row["industry"],
                    row["employee_count"],
                    row["created_on"],
                )
                for row in rows
            }
            again = import_records(session, ImportRequest("accounts", path))
            assert again.unchanged == len(rows)
    finally:
        savepoint.rollback()


@PROPERTY_SETTINGS
@given(
    cents=st.integers(0, 10**9),
    quantity=st.integers(1, 10_000),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    interval_count=st.integers(1, 12),
)
def test_stripe_arr_is_price_times_quantity_times_periods(
    cents: int, quantity: int, interval: str, interval_count: int
) -> None:
    spec = load_mapping("stripe-subscriptions").specs()["arr"]
    record = {
        "plan": {
            "amount": cents,
            "currency": "usd",
            "interval": interval,
            "interval_count": interval_count,
        },
        "quantity": quantity,
    }
    per_year = {"day": 365, "week": 52, "month": 12, "year": 1}[interval] / interval_count
    arr = float(spec.extract(record))  # a Decimal: exact money
    assert arr == pytest.approx(cents / 100 * quantity * per_year, rel=1e-9)
