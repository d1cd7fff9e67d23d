"""End to end on the simulator's output: simulate → fit → score through the CLI, fixed seed."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.metrics.by_feature import feature_slug
from tenure.model import ChurnRiskScore
from tenure.risk.datasets import customers_on
from tenure.risk.history import contract_terms
from tenure.simulate import load_config, simulate_into_stores
from tenure.store.database import create_engine, session_factory

# Usage of one catalog feature beside the registry's metrics, in the trailing month and over
# the account's life: its reasons must name it in words.
WORKFLOWS = feature_slug("workflow.automated", "days_28d")
WORKFLOWS_MONTHLY = feature_slug("workflow.automated", "per_month")
METRICS = [
    "license_utilization",
    "usage_trend",
    "days_since_last_activity",
    "days_to_renewal",
    WORKFLOWS,
    WORKFLOWS_MONTHLY,
]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path_factory.mktemp("sim")
    settings = Settings(data_dir=folder)
    config = load_config("demo", overrides={"accounts": 100, "months": 12, "seed": 5})
    simulate_into_stores(config, settings)
    return settings


@pytest.mark.slow
def test_fit_then_score_every_current_customer(
    simulated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENURE_DATA_DIR", str(simulated.data_dir))
    metric_options = [option for slug in METRICS for option in ("--metric", slug)]
    runner = CliRunner()
    fitted = runner.invoke(app, ["model", "fit", *metric_options, "--json"])
    assert fitted.exit_code == 0, fitted.output
    version = json.loads(fitted.output)["version"]
    assert (simulated.data_dir / "models" / "churn" / f"{version}.joblib").exists()

    scored = runner.invoke(app, ["model", "score", "--json"])
    assert scored.exit_code == 0, scored.output
    run = json.loads(scored.output)
    assert run["model_version"] == version
    engine = create_engine(simulated.resolved_database_url)
    with session_factory(engine)() as session:
        as_of = run["as_of"]
        current = customers_on(contract_terms(session), [date.fromisoformat(as_of)])
        stored = session.scalars(sa.select(ChurnRiskScore)).all()
    engine.dispose()
    assert {s.account_id for s in stored} == set(current["account_id"])
    assert run["accounts"] == len(stored) > 0
    assert all(s.model_version == version and s.reasons for s in stored)
    assert all(0.0 < s.probability < 1.0 for s in stored)
    # The catalog's display name (simulate/presets/defaults.yaml), not the column's slug.
    words = {
        WORKFLOWS: "Workflow automation: days used (month)",
        WORKFLOWS_MONTHLY: "Workflow automation: uses per active month",
    }
    named = {r["feature"]: r["label"] for s in stored for r in s.reasons if r["feature"] in words}
    assert WORKFLOWS_MONTHLY in named
    assert named == {feature: words[feature] for feature in named}
