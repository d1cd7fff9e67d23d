"""The success commands end to end: a committed two-account book, one command after another."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.model import Account, Contact, ContactLevel, Contract, SurveyResponse
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.success.value import SECTIONS

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        acme = Account(
            external_id="acme",
            name="Acme",
            segment="enterprise",
            employee_count=900,
            onboarded_on=date(2025, 2, 1),
            custom={
                "handoff": {
                    "technical_fit": 4,
                    "functional_fit": 4,
                    "ready": True,
                    "willing": True,
                    "able": False,
                }
            },
        )
        gone = Account(
            external_id="gone",
            name="Gone Inc",
            segment="enterprise",
            employee_count=900,
            custom={"handoff": {"technical_fit": 1}},
        )
        session.add_all([acme, gone])
        session.flush()
        session.add_all(
            [
                Contract(
                    external_id="acme-1",
                    account_id=acme.id,
                    starts_on=date(2025, 1, 1),
                    ends_on=date(2026, 12, 31),
                    arr=1000.0,
                    currency="USD",
                    licensed_seats=20,
                ),
                Contract(
                    external_id="gone-1",
                    account_id=gone.id,
                    starts_on=date(2025, 1, 1),
                    ends_on=date(2025, 12, 31),
                    arr=400.0,
                    currency="USD",
                    renewal_outcome="churned",
                    outcome_on=date(2025, 12, 31),
                ),
                Contact(
                    external_id="ana",
                    account_id=acme.id,
                    name="Ana",
                    roles=["champion"],
                    level=ContactLevel.manager,
                ),
                SurveyResponse(
                    external_id="n1",
                    account_id=acme.id,
                    kind="nps",
                    score=9,
                    responded_at=datetime(2026, 1, 10, tzinfo=UTC),
                ),
            ]
        )
    engine.dispose()
    return data_dir


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_success_commands(cli_env: Path) -> None:
    shown = json.loads(run("fit", "show", "acme", "--as-of", "2026-03-01", "--json"))
    assert shown["assessment"]["fit_band"] == "good"
    assert shown["assessment"]["readiness"]["missing"] == ["able"]
    kpis = json.loads(run("kpis", "--period", "2025-Q4", "--json"))
    usd = kpis["rows"][0]["by_currency"][0]
    # Q4 2025 cohort: acme 1000 → 1000, gone 400 → 400 (its contract runs to 12-31) → NRR 1.
    assert (usd["start_arr"], usd["nrr"]) == (1400.0, 1.0)
    year = json.loads(run("kpis", "--period", "2026-Q1", "--json"))["rows"][0]["by_currency"][0]
    assert (year["cohort_accounts"], year["nrr"]) == (1, 1.0)
    # Without --period: the last full calendar quarter before today.
    assert json.loads(run("kpis", "--json"))["period"].endswith(
        ("03-31", "06-30", "09-30", "12-31")
    )
    out = run("churn", "classify", "--as-of", "2026-03-01", "--json")
    (record,) = json.loads(out)["records"]
    # Nothing was ever measured on this base: the loss could be neither foreseen nor missed.
    assert (record["churn_class"], record["cause_side"]) == (
        "foresight_unknown_bad_fit",
        "acquisition_fit",
    )
    confirmed = run(
        "churn",
        "confirm",
        "gone",
        "--review",
        "sold to the wrong team",
        "--cause",
        "customer_change",
        "--reason",
        "acquired",
    )
    assert "cause customer_change, avoidable False — confirmed" in confirmed
    (shown_record,) = json.loads(run("churn", "show", "gone", "--json"))
    assert shown_record["root_cause_review"] == "sold to the wrong team"
    assert shown_record["suggested_reasons"][1] == "bad fit: no Success Potential at signing"
    assert "stage Adopt — LAER" in run("lifecycle", "show", "acme", "--as-of", "2026-03-01")
    assert "ESG (ends in Realization) — esg  (in force)" in run("lifecycle", "model", "esg")
    # ESG's step 2 on the same facts: no value shown yet (no outcome met, review or expansion).
    esg = run("lifecycle", "show", "acme", "--as-of", "2026-03-01")
    assert "stage Adopt — ESG (ends in Realization)" in esg and "No value shown yet" in esg
    unknown = runner.invoke(app, ["lifecycle", "model", "gainsight"])
    assert unknown.exit_code == 1 and "choose one of: laer = LAER" in unknown.output
    run("lifecycle", "model", "laer")
    assert "1 success plan(s) created" in run("milestones", "plan", "acme")
    assert "advocacy ask opened" in run(
        "milestones", "mark", "acme", "team_adoption", "--on", "2026-02-01"
    )
    timing = json.loads(run("milestones", "timing", "team_adoption", "--json"))
    # acme's plan starts 2025-01-01; team_adoption marked 2026-02-01 → 396 days.
    assert [(t["cohort"], t["reached"], t["median_days"]) for t in timing] == [
        ("2025-Q1", 1, 396.0)
    ]
    run(
        "outcome",
        "set",
        "acme",
        "--required",
        "Close the books in 3 days",
        "--metric",
        "custom.close_days",
        "--op",
        "lte",
        "--target",
        "3",
        "--experience",
        "high_touch",
        "--from",
        "2026-01-01",
        "--require",
        "handoff.ready=true",
    )
    segments = json.loads(run("outcome", "segments", "--as-of", "2026-03-01", "--json"))
    assert segments == {"(not captured)": ["gone"], "high_touch": ["acme"]}
    ax = json.loads(run("outcome", "show", "acme", "--as-of", "2026-03-01", "--json"))["status"]
    # "true" on the command line is the boolean the handoff answer holds.
    assert (ax["experience_met"], ax["required_met"]) == ("pass", "unknown")
    potential = json.loads(run("expansion", "show", "acme", "--as-of", "2026-03-01", "--json"))
    # The outcome is not measured: not enough data, never "no".
    assert potential["potential"]["advocacy"]["potential"] is None
    refused = runner.invoke(app, ["message", "draft", "acme", "advocacy_ask"])
    assert refused.exit_code == 1 and "needs a goal" in refused.output
    drafted = json.loads(
        run(
            "message",
            "draft",
            "acme",
            "advocacy_ask",
            "--goal",
            "a case study",
            "--as-of",
            "2026-03-01",
            "--json",
        )
    )
    assert drafted["audience"] == "Ana (manager)"
    csri = json.loads(
        run(
            "maturity",
            "assess",
            "--as-of",
            "2026-03-01",
            "--json",
            "--stage",
            "playbooks=conquering",
            "--stage",
            "community=expanding",
            "--stage",
            "alignment=expanding",
            "--stage",
            "productivity=emerging",
        )
    )
    assert {p["pillar"]: p["source"] for p in csri["pillars"]}["roi"] == "data"
    (saved,) = json.loads(run("maturity", "history", "--json"))
    assert saved["stages"]["playbooks"] == "conquering" and saved["csri"] == csri["csri"]
    portfolio = json.loads(
        run("lifecycle", "portfolio", "--as-of", "2026-03-01", "--save", "--json")
    )
    assert portfolio["by_stage"] == {"adopt": 1, "none": 1}
    bad = runner.invoke(app, ["maturity", "assess", "--stage", "playbooks=great"])
    assert bad.exit_code == 1 and "PILLAR=STAGE" in bad.output
    pdf = cli_env / "acme.pdf"
    run(
        "ebr",
        "acme",
        "--as-of",
        "2026-03-01",
        "--pdf",
        str(pdf),
        "--html",
        str(cli_env / "acme.html"),
    )
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.read_bytes())).pages)
    assert all(title in text for title in SECTIONS) and "Ana" in text
    assert "<svg" in (cli_env / "acme.html").read_text()
