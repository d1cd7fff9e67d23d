"""The commands a CS team runs, end to end on a real database and event store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.store.database import create_engine
from tenure.store.events import open_event_store
from tests.metrics.conftest import insert_fixture

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _fixture_for_commands(
    database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    # the store the commands will open: Parquet under the data dir, or PostgreSQL's event table
    store = open_event_store(Settings(data_dir=data_dir, database_url=database_url))
    with Session(engine) as session:
        insert_fixture(session, data_dir, store)
        session.commit()
    store.close()
    engine.dispose()
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "140")


@pytest.mark.slow
def test_metrics_and_health_commands(
    database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fixture_for_commands(database_url, data_dir, monkeypatch)

    listed = json.loads(run("metrics", "list", "--json"))
    assert {"license_utilization", "relationship_coverage", "days_to_renewal"} <= {
        m["slug"] for m in listed
    }
    computed = json.loads(run("metrics", "compute", "--as-of", "2025-03-31", "--json"))
    acme = next(r for r in computed["rows"] if r["account_external_id"] == "acme")
    assert acme["license_utilization"] == pytest.approx(0.2, rel=1e-9)
    qa = json.loads(run("metrics", "qa", "--json"))
    flagged = {m["slug"] for m in qa["metrics"] if m["flags"]}
    # Three accounts use four features little: only usage by feature can look constant or empty
    # (e.g. nobody exported in weeks 9-12, so export's change over 12 weeks has no data).
    assert flagged and all(slug.startswith("feature__") for slug in flagged)
    assert "feature__export__change_12w" in flagged
    ranged = json.loads(
        run(
            "metrics",
            "compute",
            "--from",
            "2025-03-17",
            "--to",
            "2025-03-31",
            "--every",
            "7",
            "--json",
        )
    )
    assert [d["as_of"] for d in ranged["days"]] == ["2025-03-17", "2025-03-24", "2025-03-31"]
    assert ranged["qa"]["as_of"] == "2025-03-31" and ranged["metrics"] == computed["metrics"]
    said = run("metrics", "compute", "--from", "2025-03-30", "--to", "2025-03-31")
    assert "for 2 days from 2025-03-30 to 2025-03-31 (6 account-days) in one pass" in said

    backfill = run(
        "health", "score", "--as-of", "2025-03-31", "--since", "2025-03-17", "--every", "7"
    )
    assert "scored 3 days, 2025-03-17 … 2025-03-31" in backfill
    assert "scored 3 accounts as of 2025-03-31" in backfill
    history = json.loads(run("health", "show", "acme", "--json"))
    assert [h["as_of"] for h in history] == ["2025-03-17", "2025-03-24", "2025-03-31"]
    assert history[-1]["previous_score"] == history[-2]["score"]
    explained = run("health", "explain", "ACME")
    assert "Acme (acme) — 60/100 yellow" in explained
    assert "Sponsor engaged (90 days)" in explained and "yes → +10 points" in explained
    assert "Biggest lever" in explained
    assert json.loads(run("health", "explain", "acme", "--json"))["score"] == 60
    assert "Latest health scores" in run("health", "show")

    late = runner.invoke(app, ["health", "score", "--as-of", "2025-03-01", "--since", "2025-03-02"])
    assert late.exit_code == 1 and "--since 2025-03-02 is after --as-of 2025-03-01" in late.output
    bad = runner.invoke(app, ["health", "score", "--as-of", "31/03/2025"])
    assert bad.exit_code == 1 and "--as-of '31/03/2025' is not a date" in bad.output
    missing = runner.invoke(app, ["health", "explain", "nobody"])
    assert missing.exit_code == 1 and "no account with id or name 'nobody'" in missing.output


@pytest.mark.slow
def test_scorecard_versions_from_the_command_line(
    database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fixture_for_commands(database_url, data_dir, monkeypatch)
    from tenure.health.versions import DEFAULT_SCORECARD

    edited = data_dir / "v2.yaml"
    edited.write_text(
        DEFAULT_SCORECARD.read_text()
        .replace('version: "2"', 'version: "3"')
        .replace("{name: green, min_score: 75}", "{name: green, min_score: 80}")
    )
    assert "scorecard default@3: stored, not in force" in run(
        "health", "save", str(edited), "--note", "greener green"
    )
    listed = json.loads(run("health", "versions", "--json"))
    assert [(v["reference"], v["in_force"], v["note"]) for v in listed] == [
        ("default@3", False, "greener green"),
        ("default@2", True, None),
    ]
    compared = json.loads(run("health", "compare", "2", "3", "--json"))
    # The fixture's history: Mondays 2024-12-30 … 2025-03-31 for the two customers past the
    # warm-up; its one lost renewal falls too early to be judged 90 days ahead.
    assert (compared["weeks"], compared["accounts"], compared["churners_lost"]) == (14, 2, 1)
    assert compared["verdict"].startswith("No churner can be judged yet")
    assert "default@3 is in force" in run("health", "use", "default@3")
    scored = run("health", "score", "--as-of", "2025-03-31")
    assert "with scorecard default v3" in scored
    unknown = runner.invoke(app, ["health", "compare", "2", "9"])
    assert unknown.exit_code == 1 and "no stored scorecard version '9'" in unknown.output
