"""The playbook commands end to end: daily run, CTAs, rules preview, clear errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f


@pytest.fixture
def cli_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        csm = f.user(session, email="csm@example.com")
        acme = f.account(session, external_id="acme", owner=csm)
        f.contract(session, acme, arr=50_000, ends_on=date(2026, 5, 1))
    engine.dispose()
    return database_url


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_daily_run_then_work_the_cta(cli_env: str) -> None:
    first = invoke("run", "daily", "--as-of", "2026-03-01", "--no-send", "--json")
    run = json.loads(first)
    # No usage at all: the metrics and health steps score Acme red, and its renewal is near.
    assert run["counts"]["health"] == {"scored": 1, "red": 1, "band_changes": 0}
    # No model fitted: the risk step is skipped with the reason and the command, not failed.
    assert run["status"] == "succeeded" and run["counts"]["risk"] == {}
    assert run["skipped"] == [
        {
            "step": "risk",
            "reason": "no churn model fitted yet; run `tenure model fit` first; until then "
            "churn risk is not scored and no risk.raised is sent",
        }
    ]
    assert run["counts"]["rules"] == {"created": 2}
    assert "already succeeded" in invoke("run", "daily", "--as-of", "2026-03-01", "--no-send")
    # The table says each step and what it counted in words, not the stored keys.
    table = invoke("run", "daily", "--as-of", "2026-03-01", "--no-send", "--force")
    assert "Health scores" in table and "1 scored, 1 red, 0 changed band" in table
    assert "band_changes" not in table and "scored=" not in table
    rows = [line.replace("│", " ").split() for line in invoke("run", "history").splitlines()]
    run_row = next(row for row in rows if "2026-03-01" in row)
    assert run_row[:2] + run_row[-2:] == ["2026-03-01", "succeeded", "0", "risk"]  # risk skipped
    ctas = json.loads(invoke("ctas", "list", "--json"))
    assert [(c["rule_key"], c["reason"]) for c in ctas] == [
        ("health_red", "health_band = red (== red)"),
        ("renewal_preparation", "days_to_renewal = 61 (<= 120); days_to_renewal = 61 (>= 0)"),
    ]
    cta_id = str(ctas[1]["id"])
    assert "step 1 done (1 of 2)" in invoke("ctas", "done", cta_id, "1")
    assert "in_progress" in invoke("ctas", "ack", cta_id)
    assert "closed (success)" in invoke(
        "ctas", "close", cta_id, "--outcome", "success", "--note", "renewal call booked"
    )
    assert [c["rule_key"] for c in json.loads(invoke("ctas", "list", "--json"))] == ["health_red"]
    closed = json.loads(invoke("ctas", "list", "--status", "closed", "--json"))
    assert closed[0]["outcome_note"] == "renewal call booked"
    evaluations = json.loads(invoke("rules", "evaluations", "--json"))
    assert [e["decision"] for e in evaluations] == ["created", "created"]
    preview = json.loads(
        invoke("rules", "preview", "renewal_preparation", "--as-of", "2026-02-01", "--json")
    )
    assert preview["decisions"] == {"created": 1} and preview["load_per_csm"] == {
        "csm@example.com": 1
    }


def test_errors_are_clear(cli_env: str) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["rules", "preview", "nope", "--as-of", "2026-03-01"])
    assert unknown.exit_code == 1 and "no rule 'nope'" in unknown.output
    bad_date = runner.invoke(app, ["run", "daily", "--as-of", "March 1"])
    assert (
        bad_date.exit_code == 1
        and "--as-of 'March 1' is not a date (YYYY-MM-DD)" in bad_date.output
    )
    no_step = runner.invoke(app, ["ctas", "done", "999", "1"])
    assert no_step.exit_code == 1 and "no CTA 999" in no_step.output
    missing = runner.invoke(app, ["ctas", "close", "999", "--outcome", "success"])
    assert missing.exit_code == 1 and "no CTA 999" in missing.output
