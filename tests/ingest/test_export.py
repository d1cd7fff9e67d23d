"""`tenure events export`: what was ingested comes out as the Segment messages it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.ingest.segment import read_payload
from tenure.store.events import open_event_store

RECEIVED = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
# One of each kind of stored message, as a Segment library sends them.
SENT: list[dict[str, Any]] = [
    {
        "type": "identify",
        "messageId": "m1",
        "userId": "ann",
        "traits": {"email": "ann@acme.test", "seats": 12},
        "timestamp": "2025-03-01T09:00:00.000Z",
    },
    {
        "type": "group",
        "messageId": "m2",
        "userId": "ann",
        "groupId": "acme",
        "traits": {"name": "Acme"},
        "timestamp": "2025-03-01T09:01:00.000Z",
    },
    {
        "type": "track",
        "messageId": "m3",
        "userId": "ann",
        "event": "report_exported",
        "properties": {"format": "csv", "rows": 2**70},
        "context": {"groupId": "acme"},
        "timestamp": "2025-03-02T10:00:00.000Z",
    },
    {
        "type": "page",
        "messageId": "m4",
        "anonymousId": "a-9",
        "name": "Pricing",
        "properties": {"path": "/pricing", "name": "Pricing"},
        "timestamp": "2025-03-02T11:00:00.000Z",
    },
    {
        "type": "track",
        "messageId": "m5",
        "userId": "ann",
        "event": "too_late",
        "timestamp": "2025-03-03T00:00:00.000Z",
    },
]


@pytest.fixture
def env(database_url: str, data_dir: Path) -> dict[str, str]:
    settings = Settings(data_dir=data_dir, database_url=database_url)
    store = open_event_store(settings)
    plan = read_payload({"batch": SENT}, "batch", source="web", received_at=RECEIVED)
    assert plan.quarantined == []
    store.append(plan.events)
    store.close()
    return {"TENURE_DATABASE_URL": database_url, "TENURE_DATA_DIR": str(data_dir)}


def expected(sent: dict[str, Any]) -> dict[str, Any]:
    """What export gives back: the message, with when and by which source it was received."""
    return {**sent, "receivedAt": "2025-03-03T12:00:00.000Z", "source": "web"}


def test_jsonl_export_gives_back_the_messages_sent(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["events", "export", "--since", "2025-03-01", "--until", "2025-03-03"], env=env
    )
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in result.stdout.splitlines()]
    assert exported == [expected(m) for m in SENT[:4]]  # --until is excluded


def test_parquet_export_has_a_column_per_field(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "messages.parquet"
    result = CliRunner().invoke(
        app,
        [
            *("events", "export", "--since", "2025-03-02T00:00:00Z", "--until", "2025-03-04"),
            *("--format", "parquet", "--output", str(out)),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "3 message(s) written" in result.stdout
    rows = pq.read_table(out).to_pylist()
    assert [(r["type"], r["messageId"], r["event"], r["name"], r["groupId"]) for r in rows] == [
        ("track", "m3", "report_exported", None, "acme"),
        ("page", "m4", None, "Pricing", None),
        ("track", "m5", "too_late", None, None),
    ]
    assert json.loads(rows[0]["properties"]) == {"format": "csv", "rows": 2**70}
    assert rows[0]["timestamp"] == datetime(2025, 3, 2, 10, tzinfo=UTC)


def test_parquet_needs_a_file(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "events",
            "export",
            "--since",
            "2025-03-01",
            "--until",
            "2025-03-02",
            "--format",
            "parquet",
        ],
        env=env,
    )
    assert result.exit_code == 2
    assert "parquet needs a file" in result.output
