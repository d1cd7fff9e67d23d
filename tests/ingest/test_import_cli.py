"""`tenure import` end to end: its own transaction, a rejected file logged in ImportRun while
its rows roll back, output a person can read and JSON a script can."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.accounts import service
from tenure.cli.main import app
from tenure.model import Account, ImportRun
from tenure.store.database import create_engine
from tests.ingest.helpers import FIXTURES


@pytest.fixture
def env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {"TENURE_DATABASE_URL": database_url, "TENURE_DATA_DIR": str(data_dir), "COLUMNS": "120"}


def _query(database_url: str, statement: sa.Select) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]
    finally:
        engine.dispose()


def test_import_reimport_and_rejection(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    users = FIXTURES / "salesforce_users.csv"
    team = runner.invoke(app, ["import", "users", str(users), "-m", "salesforce-users"], env=env)
    assert team.exit_code == 0, team.output
    accounts = FIXTURES / "salesforce_accounts.csv"
    first = runner.invoke(
        app, ["import", "accounts", str(accounts), "-m", "salesforce-accounts"], env=env
    )
    assert first.exit_code == 0, first.output
    assert "imported salesforce_accounts.csv" in first.stdout
    assert (
        "│ accounts │ salesforce-accounts │    3 │        3 │       0 │         0 │" in first.stdout
    )

    again = runner.invoke(
        app,
        ["import", "accounts", str(accounts), "--mapping", "salesforce-accounts", "--json"],
        env=env,
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {
        "entity": "accounts",
        "file_name": "salesforce_accounts.csv",
        "mapping": "salesforce-accounts",
        "rows": 3,
        "inserted": 0,
        "updated": 0,
        "unchanged": 3,
        "rejected": 0,
        "notes": [],
        "matched": 0,
        "linked_by_domain": 0,
        "without_account": 0,
        "conflict_count": 0,
        "conflicts": [],
        "identity_problems": [],
        "rejects_file": None,
    }

    # One good new row, one good update and one bad row: nothing of it may be stored.
    bad = tmp_path / "accounts.csv"
    bad.write_text(
        "external_id,name,employee_count\n"
        "new-co,New Co,10\n0015e00000ABCdEAAX,Renamed,20\nx,X,ten\n"
    )
    rejected = runner.invoke(app, ["import", "accounts", str(bad)], env=env)
    assert rejected.exit_code == 1
    assert "rejected, 1 bad row(s); nothing was imported" in rejected.stderr
    assert "employee_count" in rejected.stderr

    names = _query(
        database_url, sa.select(Account.external_id, Account.name).order_by(Account.external_id)
    )
    assert names == [
        ("0015e00000ABCdEAAX", "Acme Corporation"),
        ("0015e00000ABCdFAAX", "Acme Europe GmbH"),
        ("0015e00000GLXbXAAX", "Globex, Inc."),
    ]
    runs = _query(
        database_url,
        sa.select(
            ImportRun.status,
            ImportRun.file_name,
            ImportRun.inserted,
            ImportRun.unchanged,
            ImportRun.errors,
        ).order_by(ImportRun.id),
    )
    assert [r[:4] for r in runs] == [
        ("succeeded", "salesforce_users.csv", 2, 0),
        ("succeeded", "salesforce_accounts.csv", 3, 0),
        ("succeeded", "salesforce_accounts.csv", 0, 3),
        ("rejected", "accounts.csv", 0, 0),
    ]
    assert runs[3][4] == [
        {
            "line": 4,
            "column": "employee_count",
            "value": "ten",
            "reason": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]

    history = runner.invoke(app, ["import", "runs", "--json"], env=env)
    assert [run["status"] for run in json.loads(history.stdout)] == [
        "rejected",
        "succeeded",
        "succeeded",
        "succeeded",
    ]


def test_events_and_mapping_mismatch(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "message_id": f"m{day}",
                    "account_id": "acme",
                    "event": "login",
                    "timestamp": f"2024-01-0{day}T10:00:00Z",
                }
            )
            + "\n"
            for day in (1, 2)
        )
    )
    first = runner.invoke(app, ["import", "events", str(events), "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert (json.loads(first.stdout)["inserted"], json.loads(first.stdout)["unchanged"]) == (2, 0)
    second = runner.invoke(app, ["import", "events", str(events)], env=env)
    assert "already stored" in second.stdout
    assert "│ events │ —       │    2 │       0 │       0 │              2 │" in second.stdout

    wrong = runner.invoke(
        app, ["import", "contacts", str(events), "--mapping", "stripe-subscriptions"], env=env
    )
    assert wrong.exit_code == 1
    assert "mapping 'stripe-subscriptions' is for contracts, not contacts" in wrong.stderr


def test_a_failure_while_writing_rolls_everything_back(
    env: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are flushed, then the write fails: the command's transaction stores none."""

    def crash(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_record_ownership", crash)
    result = CliRunner().invoke(
        app,
        ["import", "accounts", str(FIXTURES / "hubspot_companies.csv"), "-m", "hubspot-companies"],
        env=env,
    )
    assert isinstance(result.exception, RuntimeError)
    assert _query(database_url, sa.select(Account.id)) == []
    assert _query(database_url, sa.select(ImportRun.id)) == []


def test_dry_run_counts_changes_and_writes_nothing(
    env: dict[str, str], database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    companies = str(FIXTURES / "hubspot_companies.csv")
    checked = runner.invoke(
        app,
        ["import", "accounts", companies, "-m", "hubspot-companies", "--dry-run", "--json"],
        env=env,
    )
    assert checked.exit_code == 0, checked.output
    assert (json.loads(checked.stdout)["inserted"], json.loads(checked.stdout)["rows"]) == (3, 3)
    assert _query(database_url, sa.select(Account.id)) == []
    assert _query(database_url, sa.select(ImportRun.id)) == []

    runner.invoke(app, ["import", "accounts", companies, "-m", "hubspot-companies"], env=env)
    again = runner.invoke(
        app, ["import", "accounts", companies, "-m", "hubspot-companies", "--dry-run"], env=env
    )
    assert "dry run, nothing written: hubspot_companies.csv" in again.stdout
    assert "│    3 │        0 │       0 │         3 │" in again.stdout

    events = tmp_path / "events.csv"
    events.write_text("message_id,event,timestamp\nm1,login,2024-01-01T10:00:00Z\n")
    result = runner.invoke(app, ["import", "events", str(events), "--dry-run"], env=env)
    assert "events.csv: 1 events checked; dry run, nothing written" in result.stdout
    assert not (data_dir / "events").exists() or not any((data_dir / "events").rglob("*.parquet"))
    bad = runner.invoke(
        app,
        ["import", "events", str(tmp_path / "events.csv"), "--dry-run", "--format", "jsonl"],
        env=env,
    )
    assert bad.exit_code == 1
    assert _query(database_url, sa.select(ImportRun.status)) == [("succeeded",)]


def test_skip_invalid_stores_the_good_rows_and_writes_the_rejects_beside_the_file(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    export = tmp_path / "accounts.csv"
    export.write_text(
        "external_id,name,employee_count,parent_external_id\n"
        "good-1,Good One,10,\n"
        "bad-1,Bad One,ten,\n"
        "good-2,Good Two,20,good-1\n"
        "orphan,Orphan,5,nobody\n"
    )
    refused = runner.invoke(app, ["import", "accounts", str(export)], env=env)
    assert refused.exit_code == 1  # all or nothing stays the default
    result = runner.invoke(
        app, ["import", "accounts", str(export), "--skip-invalid", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rejects = tmp_path / "accounts.rejects.csv"
    assert (report["rows"], report["inserted"], report["rejected"]) == (2, 2, 2)
    assert report["rejects_file"] == str(rejects)
    names = _query(database_url, sa.select(Account.external_id).order_by(Account.external_id))
    assert names == [("good-1",), ("good-2",)]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,column,value,reason"
    assert lines[1].startswith("3,employee_count,ten,")
    assert lines[2].startswith("5,parent_external_id,nobody,no account with external id 'nobody'")
    [run] = _query(
        database_url,
        sa.select(ImportRun.status, ImportRun.inserted, ImportRun.errors).order_by(
            ImportRun.id.desc()
        ),
    )[:1]
    assert run[:2] == ("succeeded", 2)
    assert [error["line"] for error in run[2]] == [3, 5]


def test_every_entity_kind_has_an_import_command() -> None:
    """The CLI keeps its own help table (importing the entity table would load pydantic and
    SQLAlchemy on `tenure --help`): a kind added to ENTITIES without a command fails here."""
    from tenure.cli.imports import ENTITY_HELP
    from tenure.ingest.entities import ENTITIES

    assert list(ENTITY_HELP) == list(ENTITIES)


def test_the_cli_reports_matches_and_conflicts_in_plain_words(env: dict[str, str]) -> None:
    """issue 17: the walk of docs/imports.md, the conflict table as a CS manager reads it."""
    identity = Path(__file__).parents[1] / "fixtures" / "identity"
    runner = CliRunner()
    for entity, name, mapping in (
        ("users", "salesforce_User.csv", "salesforce-users"),
        ("accounts", "salesforce_Account.csv", "salesforce-accounts"),
        ("contacts", "salesforce_Contact.csv", "salesforce-contacts"),
        ("accounts", "hubspot_companies.csv", "hubspot-companies"),
    ):
        done = runner.invoke(app, ["import", entity, str(identity / name), "-m", mapping], env=env)
        assert done.exit_code == 0, done.output
    wide = {**env, "COLUMNS": "200"}
    done = runner.invoke(
        app,
        ["import", "contacts", str(identity / "hubspot_contacts.csv"), "-m", "hubspot-contacts"],
        env=wide,
    )
    assert done.exit_code == 0, done.output
    assert "2 row(s) matched a record imported from another system" in done.stdout
    assert "1 contact(s) joined their e-mail domain's account" in done.stdout
    assert "1 contact(s) stored without an account" in done.stdout
    assert "3 value(s) two systems disagree on" in done.stdout
    # Field names and yes/no, not column keys and Python booleans.
    assert "│ email opt out │ yes" in done.stdout
    assert "email_opt_out" not in done.stdout and "True" not in done.stdout
    runs = runner.invoke(app, ["import", "runs", "--json"], env=env)
    [latest, *_] = json.loads(runs.stdout)
    assert latest["matched"] == 2
    assert {c["field"] for c in latest["conflicts"]} == {"name", "phone", "email_opt_out"}
