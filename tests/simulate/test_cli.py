"""The commands a newcomer runs: `tenure simulate` and `tenure demo`."""

from __future__ import annotations

import datetime as dt
import gc
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app

runner = CliRunner()


def test_simulate_to_files_prints_its_figures_as_json(fast_dir: Path) -> None:
    out = fast_dir / "cli-out"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--accounts",
            "25",
            "--months",
            "1",
            "--seed",
            "3",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert figures["rows"]["accounts"] == 25
    assert figures["as_of"] == "2026-11-01" and figures["start"] == "2026-10-01"
    assert (
        json.loads((out / "simulation.json").read_text())["config_hash"] == figures["config_hash"]
    )


def test_simulate_names_a_bad_flag(fast_dir: Path) -> None:
    result = runner.invoke(app, ["simulate", "--as-of", "yesterday", "--out", str(fast_dir / "x")])
    assert result.exit_code == 1
    assert "--as-of 'yesterday'" in result.output


@pytest.mark.slow
def test_demo_scores_the_base_and_can_run_again(
    fast_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from tenure.accounts.arr import active_clause
    from tenure.cli import demo
    from tenure.model import (
        ChurnRiskScore,
        Contract,
        DailyRun,
        FxRate,
        HealthScore,
        LifecycleStage,
        Milestone,
    )
    from tenure.store.database import create_engine

    data_dir = fast_dir / "demo"
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TENURE_DEMO_NO_SERVE", "1")  # the demo ends by serving the console
    monkeypatch.delenv("TENURE_DATABASE_URL", raising=False)
    monkeypatch.setattr(demo, "HISTORY_WEEKS", 2)  # three scored days keep the test fast
    all_steps = demo.STEPS
    thresholds = gc.get_threshold()
    # a second `make demo` starts again from a fresh data dir (the first stops after exporting)
    for steps in (all_steps[:2], all_steps):
        monkeypatch.setattr(demo, "STEPS", steps)
        result = runner.invoke(app, ["demo", "--accounts", "30", "--months", "7"])
        assert result.exit_code == 0, result.output
    # the steps ran as a batch job; the console after them gets Python's collector back
    assert gc.get_threshold() == thresholds != demo.BATCH_GC_THRESHOLDS
    output = " ".join(result.output.split())
    assert "Portfolio as of 2026-11-01" in output
    # the import reports before the portfolio: the deals and marketing's portal came in through
    # their doors, HubSpot's companies matched to Salesforce's with the disagreements named
    assert output.index("import reports") < output.index("Portfolio as of")
    assert "salesforce/Opportunity.csv" in output and "hubspot/all-contacts.csv" in output
    assert "HubSpot and Salesforce disagree on name" in output
    # a country is no region: the doors no longer disagree over the two
    assert "disagree on region" not in output and "disagree on country" not in output
    # the product's workspace ids reach their accounts through Salesforce's custom field
    # — but the prospect's trial workspace, planted: held, its likely account named by `events held`
    assert "; 1 id(s) name none, 5 events held" in output and " 0 events name an" not in output
    # finance's rate table came in through `tenure fx import`: euros convert into dollars
    assert "monthly rates of EUR in USD" in output
    assert "ARR by segment" in output and "Renewals in the next 120 days" in output
    assert "daily run 2026-11-01: succeeded" in output and "open calls to action" in output
    # each step's wall clock and CPU, printed and written for benchmarks/demo.py
    times = json.loads((data_dir / demo.TIMES_FILE).read_text())
    assert [s["title"] for s in times["steps"]] == [s.title for s in all_steps]
    assert all(s["cpu_seconds"] >= 0 and s["seconds"] >= 0 for s in times["steps"])
    assert times["cpu_seconds"] > 0 and "demo base ready in" in output
    engine = create_engine(f"sqlite:///{data_dir / 'tenure.db'}")
    try:
        with engine.connect() as con:

            def count(*where: sa.ColumnElement[bool]) -> int:
                return con.execute(sa.select(sa.func.count()).where(*where)).scalar_one()

            def days(column: sa.orm.InstrumentedAttribute[object]) -> list[object]:
                query = sa.select(column).distinct().order_by(column)
                return [str(d) for d in con.execute(query).scalars()]

            # weekly health history up to the as-of date: trends have points
            assert days(HealthScore.as_of) == ["2026-10-18", "2026-10-25", "2026-11-01"]
            scored = count(HealthScore.as_of == dt.date(2026, 11, 1))
            assert 0 < scored <= 30
            # churn risk, from a fitted model, for every customer the health score covers (the
            # CRM export also holds prospects: health watches them, the churn model cannot)
            customers = (
                sa.select(Contract.account_id).where(active_clause(dt.date(2026, 11, 1))).distinct()
            )
            scored_customers = count(
                HealthScore.as_of == dt.date(2026, 11, 1), HealthScore.account_id.in_(customers)
            )
            assert scored_customers > 0
            assert count(ChurnRiskScore.as_of == dt.date(2026, 11, 1)) == scored_customers
            assert list((data_dir / "models" / "churn").glob("*.joblib"))
            # LAER stages and success plans with milestones
            assert count(LifecycleStage.stage.is_not(None)) > 0
            assert count(Milestone.id.is_not(None)) > 0
            # a rate on or before the oldest term's first day: every period's KPIs convert
            oldest = con.execute(sa.select(sa.func.min(Contract.starts_on))).scalar_one()
            assert count(FxRate.currency == "EUR", FxRate.rate_on <= oldest) > 0
            run = con.execute(sa.select(DailyRun.as_of, DailyRun.status)).one()
            assert (str(run.as_of), run.status) == ("2026-11-01", "succeeded")
    finally:
        engine.dispose()


def test_demo_never_wipes_a_data_dir_it_did_not_create(
    fast_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = fast_dir / "real-data"
    data_dir.mkdir()
    (data_dir / "tenure.db").write_text("not a demo")
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TENURE_DEMO_NO_SERVE", "1")
    result = runner.invoke(app, ["demo", "--accounts", "30", "--months", "1"])
    assert result.exit_code == 1
    assert "not a Tenure demo" in " ".join(result.output.split())
    assert (data_dir / "tenure.db").read_text() == "not a demo"
