"""Every model explains itself exactly: base + contributions = the logit it predicts."""

from __future__ import annotations

import numpy as np
import pytest

from tenure.risk.datasets import table_dataset
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
