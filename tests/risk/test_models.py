"""Every model explains itself exactly: base + contributions = the logit it predicts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tenure.risk.datasets import ColumnTypes, table_dataset
from tenure.risk.models import MODELS, LogisticChurnModel, logit, make_model
from tenure.risk.reasons import BASE_COLUMN, top_reasons
from tests.risk.factories import churn_table


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return table_dataset(churn_table(), "Churn")


@pytest.mark.parametrize("name", list(MODELS))
def test_contributions_sum_to_the_logit(dataset, name: str) -> None:  # type: ignore[no-untyped-def]
    model = make_model(name, dataset.column_types).fit(dataset.features, dataset.target)
    assert model.fit(dataset.features, dataset.target) is model
    sample = dataset.features.iloc[:50]
    contributions = model.contributions(sample)
    assert list(contributions.columns) == [BASE_COLUMN, *dataset.column_types.features]
    np.testing.assert_allclose(
        contributions.sum(axis=1).to_numpy(), logit(model.predict_proba(sample)), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        contributions.sum(axis=1).to_numpy(), model.decision(sample), rtol=0, atol=1e-9
    )


def test_logistic_contribution_is_coefficient_times_standardized_value(dataset) -> None:  # type: ignore[no-untyped-def]
    model = LogisticChurnModel(dataset.column_types).fit(dataset.features, dataset.target)
    row = dataset.features.iloc[[0]]
    standardized = model.scaler_.transform(model.preprocessor_.transform(row))[0]
    plan = dataset.column_types.features.index("plan")
    expected = sum(model.coef_[k] * standardized[k] for k in np.flatnonzero(model.owner_ == plan))
    assert model.contributions(row)["plan"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert set(model.summary["feature"]) == set(dataset.column_types.features)


def test_low_utilization_is_the_top_reason_for_the_riskiest_account(dataset) -> None:  # type: ignore[no-untyped-def]
    # The data was generated with −4 × utilization as its strongest term.
    model = LogisticChurnModel(dataset.column_types).fit(dataset.features, dataset.target)
    risk = model.predict_proba(dataset.features)
    riskiest = dataset.features.iloc[[int(np.argmax(risk))]]
    reasons = top_reasons(model.contributions(riskiest), riskiest, limit=3)[0]
    assert reasons[0].feature == "utilization"
    assert reasons[0].contribution > 0
    assert reasons[0].direction == "raises risk"
    assert (
        abs(reasons[0].contribution) >= abs(reasons[1].contribution) >= abs(reasons[2].contribution)
    )


def test_unseen_categories_and_missing_numbers_are_scored(dataset) -> None:  # type: ignore[no-untyped-def]
    model = make_model("blend", dataset.column_types).fit(dataset.features, dataset.target)
    odd = dataset.features.iloc[[0]].assign(plan="platinum", monthly_fee=np.nan, tenure_months=500)
    probability = model.predict_proba(odd)
    assert 0.0 < probability[0] < 1.0


def _detail_table(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn driven by usage and the renewal calendar, beside 100 detail columns of pure noise
    (usage by feature that says nothing more): about 6 % churn, as on a small customer base."""
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=rows)
    days_to_renewal = rng.uniform(0, 365, size=rows)
    log_odds = -4.2 - 1.0 * usage + 1.8 * (days_to_renewal < 120)
    churned = (rng.uniform(size=rows) < 1 / (1 + np.exp(-log_odds))).astype(int)
    noise = {f"feature__f{k}__user_share_28d": rng.uniform(size=rows) for k in range(100)}
    frame = pd.DataFrame({"usage": usage, "days_to_renewal": days_to_renewal, **noise})
    return frame, churned


@pytest.mark.parametrize("name", ["gradient_boosting", "logistic"])
def test_many_detail_columns_are_weighed_down(name: str) -> None:
    # 86 churners to learn from, 222 to test on (seeded). Unweighted, the noise columns cost
    # AUC 0.799 → 0.770 (boosting) and 0.812 → 0.632 (logistic); weighed down, 0.783 and 0.729.
    train, churned = _detail_table(1500, seed=1)
    test, test_churned = _detail_table(4000, seed=2)
    columns = tuple(train.columns)
    plain = ColumnTypes(columns, ())
    weighed = replace(plain, detail=columns[2:])

    def auc(types: ColumnTypes) -> float:
        model = make_model(name, types).fit(train, churned)
        return float(roc_auc_score(test_churned, model.predict_proba(test)))

    assert auc(weighed) >= auc(plain) + 0.01
