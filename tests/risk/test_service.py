"""Fit, save, score and store on a real database (SQLite and PostgreSQL) and event store."""

from __future__ import annotations

import dataclasses
from datetime import date
from itertools import pairwise
from pathlib import Path

import joblib
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.model import Account, ChurnRiskScore, Contract, ContractStatus, RenewalOutcome
from tenure.risk.datasets import ColumnTypes, change_reference, customers_on, renewal_labels
from tenure.risk.history import contract_terms, load_history
from tenure.risk.scoring import score_accounts
from tenure.risk.service import evaluate_history, fit_and_save, load_model, models_dir
from tenure.store.events import EventStore, events_table_from_rows
from tests import factories as f
from tests.risk.factories import CustomerBase, customer_base

METRICS = ["license_utilization", "usage_trend", "days_since_last_activity", "days_to_renewal"]


@pytest.fixture(scope="module")
def base() -> CustomerBase:
    return customer_base(accounts=60, months=30, seed=11)


@pytest.fixture(scope="module")
def store(base: CustomerBase, tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    """The base's usage, written once: events do not depend on the database backend."""
    events = EventStore(tmp_path_factory.mktemp("events"))
    events.write_parquet(events_table_from_rows(base.events))
    return events


@pytest.fixture
def loaded(session: Session, store: EventStore, base: CustomerBase):  # type: ignore[no-untyped-def]
    for row in base.accounts:
        session.add(Account(**row))
    session.flush()
    for row in base.contracts:
        session.add(Contract(**{k: v for k, v in row.items() if k != "id"}))
    session.flush()
    return session, store, base


def test_terms_mark_losses_at_the_renewal_date(loaded) -> None:  # type: ignore[no-untyped-def]
    session, _, base = loaded
    terms = contract_terms(session)
    churned = [c for c in base.contracts if c["renewal_outcome"] == "churned"]
    assert sorted(t.churned_on for t in terms if t.churned_on) == sorted(
        c["ends_on"] for c in churned
    )


def test_a_cancellation_at_the_end_of_the_term_is_a_loss_at_the_renewal(
    session: Session,
) -> None:
    """Stripe and most billing exports stamp a subscription cancelled at period end with the
    day after its last day: that customer was lost at the renewal, so the renewal model has
    churners to learn from (the demo base had none: no chance of churn at renewal anywhere)."""
    at_end, early = (
        f.account(session, external_id="at-end"),
        f.account(session, external_id="early"),
    )
    for account, outcome_on in ((at_end, date(2026, 1, 2)), (early, date(2025, 7, 1))):
        f.contract(
            session,
            account,
            ends_on=date(2026, 1, 1),
            status=ContractStatus.cancelled,
            renewal_outcome=RenewalOutcome.churned,
            outcome_on=outcome_on,
        )
    lost = {t.account_id: t.churned_on for t in contract_terms(session)}
    assert lost == {at_end.id: date(2026, 1, 1), early.id: date(2025, 7, 1)}
    customers = customers_on(contract_terms(session), [date(2025, 6, 2)])
    labels = renewal_labels(customers, date(2026, 3, 1), 365)
    assert dict(zip(labels["account_id"], labels["churned"], strict=True)) == {
        at_end.id: 1,
        early.id: 1,
    }


@pytest.mark.slow
def test_fit_save_score_and_store(loaded, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    session, store, base = loaded
    fitted = fit_and_save(
        session,
        store,
        data_dir,
        base.end,
        horizon_days=180,
        model_name="logistic",
        metrics=METRICS,
        every_weeks=8,
    )
    assert load_model(data_dir).version == fitted.version
    # By default the model learns churn 30–180 days ahead; the version and every score say so.
    assert fitted.lead_days == 30 and "-h180-l30-" in fitted.version
    assert (data_dir / "models" / "churn" / f"{fitted.version}.json").exists()
    assert fitted.evaluation["figures"][0]["auc"] > 0.7
    # The renewal model is backtested too (embargo: the year its label spans).
    assert fitted.evaluation["renewal"]["observations"] > 0
    as_of = date(2025, 12, 1)
    run = score_accounts(session, store, data_dir, as_of)
    # Every account with a contract in force on the day (and not lost) is scored once.
    in_force = {c["account_id"] for c in base.contracts if c["starts_on"] <= as_of <= c["ends_on"]}
    stored = session.scalars(sa.select(ChurnRiskScore).where(ChurnRiskScore.as_of == as_of)).all()
    assert {s.account_id for s in stored} == in_force
    assert run.accounts == len(in_force)
    assert run.alerts == -(-len(in_force) // 10)
    top = run.scores[0]
    assert top.probability == max(s.probability for s in stored)
    assert top.model_version == fitted.version
    assert {(s.horizon_days, s.lead_days) for s in stored} == {(180, 30)}
    assert top.reasons and {"feature", "value", "contribution", "direction"} <= set(top.reasons[0])
    # Reasons name a metric or its 12-week change (license_utilization_change_12w).
    assert top.reasons[0]["feature"].removesuffix("_change_12w") in METRICS
    # ARR at risk = ARR × P(churn at next renewal), in the contract currency.
    assert top.renewal_probability is not None and top.arr_at_risk is not None
    seats_arr = next(
        c["arr"]
        for c in base.contracts
        if c["account_id"] == top.account_id and c["starts_on"] <= as_of <= c["ends_on"]
    )
    assert top.arr_at_risk == pytest.approx(seats_arr * top.renewal_probability, abs=0.01)
    assert top.currency == "USD"
    # Scoring the same day again replaces that day's rows instead of adding to them.
    score_accounts(session, store, data_dir, as_of)
    assert session.scalar(sa.select(sa.func.count()).where(ChurnRiskScore.as_of == as_of)) == len(
        in_force
    )
    # A model saved by an older Tenure, fitted on a feature no longer computed, is refused by name.
    types = fitted.column_types
    stale = dataclasses.replace(
        fitted,
        column_types=ColumnTypes((*types.numeric, "seats_used_change_3m"), types.categorical),
    )
    joblib.dump(stale, models_dir(data_dir) / f"{fitted.version}.joblib")
    with pytest.raises(
        InvalidInput, match=r"\(seats_used_change_3m\); refit it with `tenure model"
    ):
        score_accounts(session, store, data_dir, as_of)


@pytest.mark.slow
def test_changes_reach_back_twelve_weeks_at_any_cadence(loaded) -> None:  # type: ignore[no-untyped-def]
    session, store, base = loaded
    history = load_history(session, store, base.end, METRICS, every_weeks=8)
    observed = sorted(history.customers["observed_on"].unique())
    assert all((b - a).days == 56 for a, b in pairwise(observed))
    # Twelve weeks before an eighth Monday is not an observation day: it is computed as well.
    later = [day for day in observed if change_reference(day) >= observed[0]]
    assert later and all(change_reference(day) not in observed for day in later)
    for day in later:
        assert history.features[day]["license_utilization_change_12w"].notna().any()


@pytest.mark.slow
def test_evaluation_reads_the_window_it_predicts(loaded) -> None:  # type: ignore[no-untyped-def]
    from tenure.cli.context import console
    from tenure.cli.model import _render_history_evaluation

    session, store, base = loaded
    evaluation = (
        evaluate_history(session, store, base.end, 180, "logistic", metrics=METRICS, every_weeks=8)
        .parts[0]
        .as_dict()
    )
    assert evaluation["lead_days"] == 30
    assert evaluation["model_vs_lost_within_horizon"]["auc"] > 0.5
    with console.capture() as captured:
        _render_history_evaluation(evaluation)
    shown = captured.get()
    assert "churn 30–180 days ahead" in shown
    assert "against every loss within 180 days (decided ones too): AUC" in shown


def test_cli_explains_what_is_missing(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tenure.cli.main import app

    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    runner = CliRunner()
    scored = runner.invoke(app, ["model", "score", "--as-of", "2025-01-01"])
    assert scored.exit_code == 1
    assert "no churn model fitted yet; run `tenure model fit` first" in scored.output
    evaluated = runner.invoke(app, ["model", "evaluate", "--as-of", "2025-01-01"])
    assert evaluated.exit_code == 1
    assert "no contracts: churn is learned from contract outcomes" in evaluated.output
    bad_day = runner.invoke(app, ["model", "fit", "--as-of", "January"])
    assert "--as-of 'January' is not a date (YYYY-MM-DD)" in bad_day.output
