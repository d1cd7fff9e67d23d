"""Event files without a mapping: Segment-spec JSON lines read exactly as /v1/batch reads the
same messages, and Parquet in the event columns checked column by column — all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.errors import RejectedFile
from tenure.ingest.importer import count_valid_events, import_events
from tenure.ingest.request import ImportRequest
from tenure.ingest.segment import read_payload
from tenure.model import Account, Contact
from tenure.store.events import EVENT_COLUMNS, EventStore, open_event_store
from tests.ingest.test_segment_plain_path import captured_client_message

RECEIVED = datetime(2026, 11, 27, 8, tzinfo=UTC)
# What a Segment client sends (segment-analytics-python 2.x, analytics.js): a track with its
# account in context.groupId, an anonymous page, a track timed by the sender's clock only,
# identify and group calls, and an alias.
MESSAGES: list[dict[str, Any]] = [
    captured_client_message(),
    captured_client_message(
        type="page",
        userId=None,
        anonymousId="a-1",
        name="Pricing",
        category="Docs",
        messageId="m-page",
        timestamp="2026-11-26T23:04:34.720Z",
    ),
    {
        **captured_client_message(messageId="m-clock"),
        "timestamp": None,
        "originalTimestamp": "2026-11-26T10:00:00.000Z",
        "sentAt": "2026-11-26T10:00:05.000Z",
    },
    {
        "type": "identify",
        "messageId": "m-identify",
        "userId": "user-0",
        "traits": {"email": "maria@acme.example", "name": "Maria Lopez"},
        "timestamp": "2026-11-26T09:00:00Z",
    },
    {
        "type": "group",
        "messageId": "m-group",
        "userId": "user-0",
        "groupId": "acct-0",
        "traits": {"name": "Acme Corp", "industry": "Retail"},
        "timestamp": "2026-11-26T09:00:01Z",
    },
    {"type": "alias", "messageId": "m-alias", "previousId": "a-1", "userId": "user-0"},
]


@pytest.fixture
def store(data_dir: Path, database_url: str) -> EventStore:
    return open_event_store(Settings(data_dir=data_dir, database_url=database_url))


def write_lines(path: Path, messages: list[Any], *, extra: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in messages) + extra)
    return path


def stored_rows(store: EventStore) -> list[dict[str, Any]]:
    rows = store.messages(store.connect()).order_by("message_id").to_pyarrow().to_pylist()
    return [{k: r[k] for k in EVENT_COLUMNS if k != "source"} for r in rows]


def test_segment_lines_are_stored_as_the_batch_endpoint_stores_them(
    session: Session, store: EventStore, tmp_path: Path
) -> None:
    # the CRM's account the product's group call names (a groupId naming none creates none)
    session.add(Account(external_id="acct-0", name="Acme", custom={}))
    session.flush()
    path = write_lines(tmp_path / "segment-export.jsonl", MESSAGES, extra=b"\n")
    assert count_valid_events(ImportRequest("events", path)) == len(MESSAGES)
    report = import_events(
        store, ImportRequest("events", path), session=session, received_at=RECEIVED
    )
    # Five rows (the alias is an identity call only); a re-import writes nothing.
    assert (report.rows, report.inserted, report.unchanged) == (6, 5, 0)

    by_endpoint = read_payload(
        {"batch": MESSAGES}, "batch", source="web", received_at=RECEIVED
    ).events
    expected = sorted(
        ({k: r[k] for k in EVENT_COLUMNS if k != "source"} for r in by_endpoint),
        key=lambda r: r["message_id"],
    )
    assert stored_rows(store) == expected
    clock = next(r for r in stored_rows(store) if r["message_id"] == "m-clock")
    # received_at − (sentAt − originalTimestamp): the sender's clock corrected
    assert clock["timestamp"] == datetime(2026, 11, 27, 7, 59, 55, tzinfo=UTC)
    # identify, group and alias did what they do through /v1
    account = session.scalars(sa.select(Account).where(Account.external_id == "acct-0")).one()
    contact = session.scalars(sa.select(Contact).where(Contact.external_id == "user-0")).one()
    assert (account.name, account.industry) == ("Acme Corp", "Retail")
    assert (contact.email, contact.account_id) == ("maria@acme.example", account.id)

    again = import_events(
        store, ImportRequest("events", path), session=session, received_at=RECEIVED
    )
    assert (again.inserted, again.unchanged) == (0, 5)


def test_a_bad_segment_line_refuses_the_file_naming_the_line(
    session: Session, store: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "segment.jsonl"
    write_lines(
        path,
        [
            MESSAGES[0],
            captured_client_message(messageId="m-2", userId=None),  # nobody
            MESSAGES[1],
        ],
        extra=b'{"type": "track", "messageId": "m-4", "userId": "u"\n'
        + orjson.dumps(captured_client_message(messageId="m-5", timestamp="1970-01-01T00:00:00Z"))
        + b"\n",
    )
    with pytest.raises(RejectedFile) as rejected:
        import_events(store, ImportRequest("events", path), session=session, received_at=RECEIVED)
    errors = rejected.value.errors
    assert [e.line for e in errors] == [2, 4, 5]
    assert "userId or anonymousId is required" in errors[0].reason
    assert errors[1].reason.startswith("the line is not valid JSON")
    assert "outside the accepted window" in errors[2].reason
    assert store.stats().events == 0


def _parquet(path: Path, **columns: pa.Array) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_in_the_event_columns_is_read_column_by_column(
    store: EventStore, tmp_path: Path
) -> None:
    path = _parquet(
        tmp_path / "events.parquet",
        message_id=pa.array(["p-1", "p-2", "p-3"]),
        account_id=pa.array(["acme", "", None]),
        user_id=pa.array(["u-1", "u-2", "u-3"]),
        event=pa.array(["report.created", "sso.login", "report.created"]),
        # No zone: UTC, as in every other event file.
        timestamp=pa.array(
            [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 23, 59), datetime(2026, 3, 2, 0, 1)],
            pa.timestamp("ns"),
        ),
        properties=pa.array(['{"pages": 3}', None, "{}"]),
    )
    report = import_events(store, ImportRequest("events", path), received_at=RECEIVED)
    assert (report.rows, report.inserted) == (3, 3)
    rows = stored_rows(store)
    assert [(r["message_id"], r["account_id"], r["type"]) for r in rows] == [
        ("p-1", "acme", "track"),
        ("p-2", None, "track"),
        ("p-3", None, "track"),
    ]
    assert rows[1]["timestamp"] == datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    assert rows[0]["properties"] == '{"pages": 3}' and rows[0]["received_at"] == RECEIVED


def test_bad_parquet_rows_are_named_by_row_and_column(store: EventStore, tmp_path: Path) -> None:
    path = _parquet(
        tmp_path / "events.parquet",
        message_id=pa.array(["p-1", None, "p-3", "p-4"]),
        type=pa.array(["track", "track", "identify", "page"]),
        event=pa.array(["login", "login", "login", ""]),
        timestamp=pa.array([datetime(2026, 3, 1, 9, tzinfo=UTC)] * 4),
        properties=pa.array([None, None, None, "[1, 2]"]),
    )
    with pytest.raises(RejectedFile) as rejected:
        import_events(store, ImportRequest("events", path), received_at=RECEIVED)
    assert sorted((e.line, e.column) for e in rejected.value.errors) == [
        (2, "message_id"),
        (3, "type"),
        (4, "event"),
        (4, "properties"),
    ]
    assert store.stats().events == 0
