"""`tenure import` end to end on Salesforce exports: users before the accounts they own, cases and
activities after, and the note an owner who left leaves behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app

SALESFORCE = Path(__file__).parents[1] / "fixtures" / "exports" / "salesforce"


@pytest.fixture
def env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {"TENURE_DATABASE_URL": database_url, "TENURE_DATA_DIR": str(data_dir), "COLUMNS": "160"}


def _run(env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["import", *args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_salesforce_org_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    steps = [
        ("users", "User_extract.csv", "salesforce-users", 3),
        ("accounts", "Account_extract_cp1252.csv", "salesforce-accounts", 3),
        ("contacts", "Contact_extract_utf16.csv", "salesforce-contacts", 3),
        ("tickets", "Case_extract.csv", "salesforce-cases", 2),
        ("touchpoints", "Task_extract.csv", "salesforce-tasks", 3),
        ("touchpoints", "Event_extract_bulk_api.csv", "salesforce-events", 2),
    ]
    for entity, name, mapping, rows in steps:
        report = _run(env, entity, str(SALESFORCE / name), "-m", mapping)
        assert (report["rows"], report["inserted"], report["notes"]) == (rows, rows, [])

    # Zoë leaves: the next User export says so, and her three accounts need a new owner.
    text = (SALESFORCE / "User_extract.csv").read_bytes().decode("utf-8")
    zoe = '"zoe.martin@tenure-demo.example","true"'
    left = tmp_path / "User_extract.csv"
    left.write_bytes(text.replace(zoe, '"zoe.martin@tenure-demo.example","false"').encode())
    result = CliRunner().invoke(
        app, ["import", "users", str(left), "-m", "salesforce-users"], env=env
    )
    assert result.exit_code == 0, result.output
    assert (
        "note: Zoë Martin (zoe.martin@tenure-demo.example) is inactive and still owns 3 accounts: "
        "they need a new owner" in result.stdout
    )
