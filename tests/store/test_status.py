"""`tenure sources`, `tenure status` and `tenure events compact`, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.model.base import utcnow
from tenure.store.events import Quarantined, open_event_store
from tests.store.factories import event, events


@pytest.fixture
def cli_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {"TENURE_DATA_DIR": str(data_dir), "TENURE_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_sources_create_prints_a_key_once_and_list_shows_its_prefix(cli_env) -> None:
    created = run(cli_env, "sources", "create", "web-app")
    write_key = created.strip().splitlines()[-1]
    assert write_key.startswith("tk_")
    listed = json.loads(run(cli_env, "sources", "list", "--json"))
    assert [(s["name"], s["write_key_prefix"], s["is_active"]) for s in listed] == [
        ("web-app", write_key[:12], True)
    ]
    again = CliRunner().invoke(app, ["sources", "create", "web-app"], env=cli_env)
    assert again.exit_code == 1
    assert "a source named 'web-app' already exists" in again.output


def test_status_reports_counts_events_inbox_and_quarantine(cli_env, data_dir, database_url) -> None:
    run(cli_env, "sources", "create", "web-app")
    store = open_event_store(Settings(data_dir=data_dir, database_url=database_url))
    store.write_parquet(events(event("a", hour=8)))
    store.append([event("b", hour=17), event("c", hour=12)])
    received = utcnow()  # recent: compaction forgets quarantined messages after 30 days
    store.quarantine([Quarantined("web-app", "event: Field required", "{}", received)])

    report = json.loads(run(cli_env, "status", "--json"))
    assert report["tables"]["event_source"] == 1 and report["tables"]["account"] == 0
    assert report["events"] == 3
    assert (report["first_event"], report["last_event"]) == (
        "2025-01-06T08:00:00Z",
        "2025-01-06T17:00:00Z",
    )
    assert report["inbox_pending"] == (0 if store.is_postgres else 2)
    assert report["quarantined"] == 1
    assert report["recent_quarantine"][0]["reason"] == "event: Field required"
    listed = json.loads(run(cli_env, "events", "quarantined", "--json"))
    assert [(q["source"], q["reason"], q["raw"]) for q in listed] == [
        ("web-app", "event: Field required", "{}")
    ]

    compacted = run(cli_env, "events", "compact")
    after = json.loads(run(cli_env, "status", "--json"))
    assert (after["events"], after["inbox_pending"]) == (3, 0)
    if store.is_postgres:
        assert "written to PostgreSQL directly" in compacted
    else:
        assert "compacted 2 inbox rows in 1 run(s): 2 events written" in compacted

    shown = run(cli_env, "status")
    assert "events        3 (2025-01-06 08:00 → 2025-01-06 17:00 UTC)" in shown
    assert "quarantined   1" in shown
