"""Event mode: observation datasets without look-ahead, time-ordered backtests, early warning."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from tenure.dates import end_of
from tenure.errors import InvalidInput
from tenure.metrics.compute import daily_activity
from tenure.metrics.snapshot import snapshot_from_rows
from tenure.risk.datasets import (
    ContractTerm,
    customers_on,
    horizon_labels,
    infer_column_types,
    lost_within,
    metric_features,
    observation_dataset,
    renewal_labels,
    weekly_dates,
    with_changes,
)
from tenure.risk.evaluation import backtest, early_warning, rank_figures, time_ordered_folds
from tenure.risk.history import LABEL_COLUMNS, feature_types
from tenure.risk.models import make_model
from tenure.risk.scoring import score_frame
from tenure.risk.service import ChurnRiskModel
from tenure.store.events import events_table_from_rows
from tests.risk.factories import CustomerBase, customer_base, terms_of

# The metrics these tests feed the model (all metrics work; a few keep the tests fast).
METRICS = (
    "active_users_28d",
    "license_utilization",
    "usage_trend",
    "days_since_last_activity",
    "days_to_renewal",
    "tenure_days",
    "arr",
)
HORIZON = 180


def features_on(
    base: CustomerBase,
    dates: list[date],
    events: list[dict[str, Any]] | None = None,
    contracts: list[dict[str, Any]] | None = None,
) -> dict[date, pd.DataFrame]:
    con = ibis.duckdb.connect()
    table = con.create_table("events", events_table_from_rows(events or base.events))
    snapshot = snapshot_from_rows(
        con, accounts=base.accounts, contracts=contracts or base.contracts
    )
    daily = con.create_table("daily", daily_activity(table, snapshot, max(dates)), temp=True)
    return metric_features(con, daily, snapshot, dates, METRICS)


@pytest.fixture(scope="module")
def base() -> CustomerBase:
    return customer_base(months=30)


@pytest.fixture(scope="module")
def dataset(base: CustomerBase) -> pd.DataFrame:
    # Every second week keeps the test fast; the service observes weekly.
    dates = weekly_dates(base.start + timedelta(days=60), base.end)[::2]
    labels = horizon_labels(customers_on(terms_of(base), dates), HORIZON, base.end)
    return observation_dataset(labels, features_on(base, sorted(labels["observed_on"].unique())))


def test_customers_and_labels_by_hand() -> None:
    # A: renewed 2024-12-31, churned at its renewal 2025-12-31. B: cancelled early on 2025-03-10.
    terms = [
        ContractTerm(1, date(2024, 1, 1), date(2024, 12, 31)),
        ContractTerm(1, date(2025, 1, 1), date(2025, 12, 31), churned_on=date(2025, 12, 31)),
        ContractTerm(2, date(2024, 6, 1), date(2025, 5, 31), churned_on=date(2025, 3, 10)),
    ]
    dates = [date(2024, 7, 1), date(2025, 3, 1), date(2025, 4, 1), date(2025, 7, 1)]
    customers = customers_on(terms, dates)
    assert customers[["account_id", "observed_on"]].values.tolist() == [
        [1, date(2024, 7, 1)],
        [2, date(2024, 7, 1)],
        [1, date(2025, 3, 1)],
        [2, date(2025, 3, 1)],
        [1, date(2025, 4, 1)],
        [1, date(2025, 7, 1)],
    ]  # B is gone after its cancellation
    labels = horizon_labels(customers, 180, data_end=date(2025, 12, 31))
    # 2025-07-01 + 180 days = 2025-12-28 ≤ data end: kept, but A churns 3 days after the window.
    assert labels["churned"].tolist() == [0, 0, 0, 1, 0, 0]
    # With the data ending 2025-06-30, windows from 2025-01-02 on are not over: dropped.
    assert len(horizon_labels(customers, 180, data_end=date(2025, 6, 30))) == 2
    # With a 30-day lead B, lost 9 days after 2025-03-01, has decided: not in (t + 30, t + 200].
    # A seen 2025-07-01 is lost 183 days later: inside that window.
    ahead = horizon_labels(customers, 200, data_end=date(2026, 6, 30), lead_days=30)
    assert ahead["churned"].tolist() == [0, 0, 0, 0, 0, 1]
    assert lost_within(ahead, 30).tolist() == [False, False, False, True, False, False]
    with pytest.raises(InvalidInput, match=r"the lead \(200 days\) must be .* shorter than the"):
        horizon_labels(customers, 200, data_end=date(2026, 6, 30), lead_days=200)
    renewals = renewal_labels(customers, data_end=date(2025, 12, 31))
    # Every row has its renewal within a year and over by the data end. A seen 2024-07-01 renews
    # on 2024-12-31 (0); seen later, it is lost at the 2025-12-31 renewal (1); B is cancelled
    # before its 2025-05-31 renewal, which counts as lost at that renewal (1).
    assert renewals["churned"].tolist() == [0, 1, 1, 1, 1, 1]


def test_features_do_not_look_ahead(base: CustomerBase) -> None:
    """Features of a date must equal those computed from a history cut at that date.

    The cut removes every event after the date and every outcome not known yet. If any metric
    read the future (events after the cutoff, a renewal outcome decided later), this fails.
    """
    t = date(2025, 3, 1)
    full = features_on(base, [t])[t]
    cut_events = [e for e in base.events if e["timestamp"] < end_of(t)]
    cut_contracts = [
        c
        if (c["outcome_on"] or date.max) <= t
        else {**c, "status": "active", "renewal_outcome": None, "outcome_on": None}
        for c in base.contracts
        if c["starts_on"] <= t
    ]
    assert len(cut_events) < len(base.events)
    cut = features_on(base, [t], cut_events, cut_contracts)[t]
    pd.testing.assert_frame_equal(full, cut)


def test_future_data_cannot_change_past_observations(base: CustomerBase) -> None:
    # Flood the future with activity for every account: no past row may move.
    t = date(2024, 10, 1)
    later = [
        {**e, "message_id": f"future-{i}", "timestamp": e["timestamp"] + timedelta(days=400)}
        for i, e in enumerate(base.events)
    ]
    before = features_on(base, [t])[t]
    after = features_on(base, [t], base.events + later)[t]
    pd.testing.assert_frame_equal(before, after)


def test_time_folds_keep_an_embargo(dataset: pd.DataFrame) -> None:
    for fold in time_ordered_folds(dataset["observed_on"], dataset["churned"], HORIZON, folds=3):
        train_dates = dataset.loc[fold.train_mask, "observed_on"]
        assert fold.train_mask.any() and fold.test_mask.any()
        # Every training label window ends by the first test date: no overlap.
        assert train_dates.max() + timedelta(days=HORIZON) <= fold.test_from
        assert not (fold.train_mask & fold.test_mask).any()


def test_early_warning_by_hand() -> None:
    # 10 accounts scored monthly; account 1 churns at its renewal on 2025-06-30.
    dates = [date(2025, m, 1) for m in range(1, 7)]
    rows = []
    for d in dates:
        for account in range(1, 11):
            # Account 1 tops the list from March on (lead: 2025-06-30 − 2025-03-01 = 121 days).
            risky = account == 1 and d >= date(2025, 3, 1)
            rows.append(
                {
                    "account_id": account,
                    "observed_on": d,
                    "probability": 0.9 if risky else account / 100,
                    "churned": int(account == 1),
                }
            )
    scored = pd.DataFrame(rows)
    renewals = pd.DataFrame({"account_id": [1], "renewal_on": [date(2025, 6, 30)]})
    warning = early_warning(scored, renewals)
    # 90 days before 2025-06-30 is 2025-04-01: the last scoring date on or before it; flagged.
    assert (warning.churners, warning.flagged_ahead, warning.lead_times) == (1, 1, [121])
    late = early_warning(
        scored.assign(
            probability=lambda f: np.where(
                (f.account_id == 1) & (f.observed_on < date(2025, 5, 1)), 0.0, f.probability
            )
        ),
        renewals,
    )
    assert (late.flagged_ahead, late.lead_times) == (0, [60])


def test_backtest_beats_the_naive_baseline(base: CustomerBase, dataset: pd.DataFrame) -> None:
    _, types = infer_column_types(
        dataset.drop(
            columns=["account_id", "observed_on", "next_renewal_on", "churned_on", "churned"]
        ),
        drop_identifiers=False,
    )
    result = backtest(dataset, types, HORIZON, "logistic", folds=3)
    renewals = pd.DataFrame(
        [(t.account_id, t.churned_on) for t in terms_of(base) if t.churned_on],
        columns=["account_id", "renewal_on"],
    )
    tested = result.predictions.merge(dataset, on=["account_id", "observed_on", "churned"])
    model = rank_figures("logistic", tested, "probability", renewals)
    naive = rank_figures("naive", tested, "days_since_last_activity", renewals)
    assert model.scores.auc > 0.8
    assert model.scores.auc > naive.scores.auc
    assert model.early_warning.churners > 5


def test_a_lead_keeps_decided_accounts_out_of_training_but_scores_them(
    dataset: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tenure.risk.evaluation as evaluation

    trained: list[pd.DataFrame] = []
    real_make_model = evaluation.make_model

    def recording(name: str, types: Any) -> Any:
        model = real_make_model(name, types)
        fit = model.fit
        model.fit = lambda rows, target: (trained.append(rows), fit(rows, target))[1]  # type: ignore[method-assign]
        return model

    monkeypatch.setattr(evaluation, "make_model", recording)
    lead = 60
    decided = lost_within(dataset, lead)
    result = backtest(dataset, feature_types(dataset), HORIZON, "logistic", folds=3, lead_days=lead)
    assert decided.sum() > 5 and len(trained) == 3
    assert not any(lost_within(rows, lead).any() for rows in trained)
    # Every customer on a test date is scored, the decided ones too.
    tested = result.predictions.merge(dataset, on=["account_id", "observed_on"])
    assert lost_within(tested, lead).any()


def with_booked_renewals(dataset: pd.DataFrame) -> pd.DataFrame:
    """Every third account's renewal booked once it is 60 days away (unrelated to the label)."""
    booked = (dataset["account_id"] % 3 == 0) & (dataset["days_to_renewal"] <= 60)
    return dataset.assign(renewal_booked=booked.astype("int64"))


def test_a_booked_renewal_is_decided_in_the_backtest(dataset: pd.DataFrame) -> None:
    """A renewal signed in the customer's favour scores 0: it takes no place in the alert set
    from a customer who may still leave (the model sees few booked rows and cannot learn it)."""
    rows = with_booked_renewals(dataset)
    result = backtest(rows, feature_types(rows), HORIZON, "logistic", folds=3)
    tested = result.predictions.merge(
        rows.drop(columns="churned"), on=["account_id", "observed_on"]
    )
    booked = tested["renewal_booked"] == 1
    assert booked.sum() > 5 and (~booked).sum() > 5
    assert (tested.loc[booked, "probability"] == 0).all()
    assert (tested.loc[~booked, "probability"] > 0).all()


def test_scoring_reads_a_booked_renewal_as_decided(dataset: pd.DataFrame) -> None:
    rows = with_booked_renewals(dataset)
    types = feature_types(rows)
    model = make_model("logistic", types).fit(rows, rows["churned"].to_numpy())
    fitted = ChurnRiskModel(
        version="test",
        data_end=rows["observed_on"].max(),
        horizon_days=HORIZON,
        metrics=None,
        column_types=types,
        model=model,
        renewal_model=model,
        evaluation={},
        trained_rows=len(rows),
    )
    day = rows.groupby("observed_on")["renewal_booked"].sum().idxmax()
    current = rows[rows["observed_on"] == day].reset_index(drop=True)
    scored = score_frame(fitted, current)
    booked = (current["renewal_booked"] == 1).to_numpy()
    assert booked.any() and (~booked).any()
    assert (scored.loc[booked, "probability"] == 0).all()
    assert (scored.loc[~booked, "probability"] > 0).all()
    assert not scored.loc[booked, "in_alert_set"].any()
    assert scored["in_alert_set"].sum() == -(-len(current) // 10)
    due = scored["renewal_probability"].notna().to_numpy()
    assert (booked & due).any()
    assert (scored.loc[booked & due, "renewal_probability"] == 0).all()


def perfect_separators(rows: pd.DataFrame) -> list[str]:
    """Feature columns that alone rank every churner above every stayer (or below): leaks.

    Real churn signals are noisy; a column that separates the label perfectly was computed from
    the outcome. Missing values count as their own, lowest value so "known only for churners"
    separates too.
    """
    churned = rows["churned"].to_numpy() == 1
    leaks = []
    for name in feature_types(rows).numeric:
        values = rows[name].astype(float)
        ranked = values.fillna(values.min() - 1).to_numpy()
        if ranked[churned].min() > ranked[~churned].max() or (
            ranked[churned].max() < ranked[~churned].min()
        ):
            leaks.append(name)
    return leaks


def test_labels_never_reach_the_features(dataset: pd.DataFrame) -> None:
    """Fails if any outcome (the label, the churn date, or a column made from them) leaks.

    The dataset is built exactly as the service builds it; the model reads ``feature_types``.
    The control shows the check would catch a leak: days until the loss, known only afterwards.
    """
    assert not set(feature_types(dataset).features) & set(LABEL_COLUMNS)
    assert dataset["churned"].sum() > 5 and perfect_separators(dataset) == []
    days_until_loss = (
        pd.to_datetime(dataset["churned_on"]) - pd.to_datetime(dataset["observed_on"])
    ).dt.days
    leaked = dataset.assign(days_until_loss=days_until_loss.where(dataset["churned"] == 1))
    assert perfect_separators(leaked) == ["days_until_loss"]
    honest = backtest(dataset, feature_types(dataset), HORIZON, "logistic", folds=3)
    cheating = backtest(leaked, feature_types(leaked), HORIZON, "logistic", folds=3)
    # A leaked label ranks (almost) perfectly out of time; the honest pipeline cannot.
    # (0.987 against 0.868 on this base.)
    assert cheating.pooled.auc > 0.98 > honest.pooled.auc


def test_changes_compare_with_twelve_weeks_earlier() -> None:
    march = pd.DataFrame(
        {"segment": ["smb", "smb"], "seats_used": [8.0, 5.0]}, index=pd.Index([1, 2], name="id")
    )
    june = pd.DataFrame(
        {"segment": ["smb", "smb", "ent"], "seats_used": [2.0, 6.0, 9.0]},
        index=pd.Index([1, 2, 3], name="id"),
    )
    frames = with_changes({date(2025, 3, 3): march, date(2025, 5, 26): june})
    # 2 − 8 = −6, 6 − 5 = +1; account 3 was not there in March; March has no December frame.
    assert frames[date(2025, 5, 26)]["seats_used_change_12w"].tolist()[:2] == [-6.0, 1.0]
    assert np.isnan(frames[date(2025, 5, 26)].loc[3, "seats_used_change_12w"])
    assert frames[date(2025, 3, 3)]["seats_used_change_12w"].isna().all()
    assert "segment_change_12w" not in frames[date(2025, 5, 26)]


def test_usage_by_feature_is_detail_of_the_observation_rows() -> None:
    from tenure.metrics.by_feature import feature_slug

    reports = feature_slug("report.created", "days_28d")
    rows = pd.DataFrame(
        {
            **{column: [1, 2] for column in LABEL_COLUMNS},
            "license_utilization": [0.5, 0.9],
            reports: [3.0, 0.0],
            "segment": ["smb", "enterprise"],
        }
    )
    types = feature_types(rows)
    assert types.numeric == ("license_utilization", reports)
    assert types.detail == (reports,)
