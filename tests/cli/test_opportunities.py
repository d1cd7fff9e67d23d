"""`tenure opportunities` and `tenure advocacy` end to end on a committed database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.model import AuditLog
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "200")  # tables on one line each
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        f.account(session, external_id="acme", name="Acme")
        f.user(session, email="fay@example.com", name="Fay Farmer")
    engine.dispose()
    return database_url


def _json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_create_update_win_lose_and_forecast(cli_env: str) -> None:
    deal = _json(
        "opportunities",
        "create",
        "Acme",
        "--name",
        "Add 50 seats",
        "--kind",
        "expansion",
        "--amount",
        "12000",
        "--currency",
        "EUR",
        "--probability",
        "40",
        "--close-date",
        "2099-02-15",
        "--owner",
        "fay@example.com",
    )
    assert isinstance(deal, dict)
    assert (deal["owner_name"], deal["amount"], deal["close_on"]) == (
        "Fay Farmer",
        12000.0,
        "2099-02-15",
    )
    changed = _json("opportunities", "update", str(deal["id"]), "--probability", "50")
    assert isinstance(changed, dict) and changed["probability"] == 50.0
    forecast = _json("opportunities", "forecast", "--months", "36", "--as-of", "2098-12-01")
    assert isinstance(forecast, dict)
    assert [(r["period"], r["expected"]) for r in forecast["rows"]] == [
        ("2099-02", "6000.00"),
        ("2099-Q1", "6000.00"),
    ]
    other = _json(
        "opportunities", "create", "acme", "--name", "Sister co", "--kind", "new_business"
    )
    assert isinstance(other, dict)
    no_reason = runner.invoke(app, ["opportunities", "lose", str(other["id"]), "--reason", ""])
    assert no_reason.exit_code == 1 and "say why the deal was lost" in no_reason.output
    lost = _json("opportunities", "lose", str(other["id"]), "--reason", "No budget")
    assert isinstance(lost, dict) and lost["status"] == "lost"
    won = _json("opportunities", "win", str(deal["id"]))
    assert isinstance(won, dict) and won["status"] == "won"
    rows = _json("opportunities", "list", "--status", "won")
    assert isinstance(rows, list) and [r["name"] for r in rows] == ["Add 50 seats"]
    bad = runner.invoke(app, ["opportunities", "list", "--kind", "upsell"])
    assert bad.exit_code == 1 and "--kind 'upsell': expected one of" in bad.output
    table = runner.invoke(app, ["opportunities", "list"])
    assert "new business" in table.output and "12,000.00 EUR" in table.output
    engine = create_engine(cli_env)
    with session_scope(session_factory(engine)) as session:
        actions = [a for (a,) in session.query(AuditLog.action).filter_by(entity="opportunity")]
    engine.dispose()
    assert actions == [
        "opportunity.create",
        "opportunity.update",
        "opportunity.create",
        "opportunity.lost",
        "opportunity.won",
    ]


def test_record_and_list_advocacy(cli_env: str) -> None:
    recorded = _json(
        "advocacy",
        "record",
        "acme",
        "--kind",
        "speaker",
        "--title",
        "Pulse 2026 keynote",
        "--on",
        "2026-02-20",
    )
    assert isinstance(recorded, dict) and recorded["kind"] == "speaker"
    table = runner.invoke(app, ["advocacy", "list"])
    assert "speaker slot" in table.output and "Pulse 2026 keynote" in table.output
