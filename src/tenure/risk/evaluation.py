"""Measuring churn models honestly: ranking, alerting and calibration, on folds the model never saw.

Table mode: ``StratifiedKFold(5, shuffle=True, random_state=0)``; every model (and its
preprocessing) is fitted inside each fold; figures are reported as mean ± sd over folds.
Event mode: time-ordered folds; training rows are only those whose label window closed before the
test period starts (the embargo), so no training label peeks into the test period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from tenure.errors import InvalidInput
from tenure.risk.datasets import ColumnTypes, TableDataset
from tenure.risk.models import make_model

ALERT_BUDGET = 0.10
FOLDS = 5
SEED = 0


def alert_set(scores: np.ndarray, budget: float = ALERT_BUDGET) -> np.ndarray:
    """Boolean mask of the top ``budget`` share of rows by score (at least one row).

    Ties are broken by row order so the set has exactly ``ceil(budget × n)`` rows.
    """
    n = len(scores)
    size = max(1, math.ceil(budget * n))
    order = np.argsort(-np.asarray(scores), kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[:size]] = True
    return mask


def top_decile_lift(churned: np.ndarray, scores: np.ndarray) -> float:
    """Churn rate in the top 10% by score ÷ overall churn rate (1 = no better than chance).

    >>> top_decile_lift(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), np.arange(10, 0, -1))
    10.0
    """
    flagged = alert_set(scores, 0.10)
    base = churned.mean()
    return float(churned[flagged].mean() / base) if base > 0 else float("nan")


@dataclass(frozen=True)
class Scores:
    """The figures one set of predictions earns against outcomes."""

    auc: float
    top_decile_lift: float
    precision_at_budget: float
    recall_at_budget: float
    log_loss: float
    brier: float

    @classmethod
    def of(
        cls, churned: np.ndarray, probability: np.ndarray, budget: float = ALERT_BUDGET
    ) -> Scores:
        flagged = alert_set(probability, budget)
        churners = churned.sum()
        return cls(
            auc=float(roc_auc_score(churned, probability)),
            top_decile_lift=top_decile_lift(churned, probability),
            precision_at_budget=float(churned[flagged].mean()),
            recall_at_budget=float(churned[flagged].sum() / churners) if churners else float("nan"),
            log_loss=float(
                log_loss(churned, np.clip(probability, 1e-15, 1 - 1e-15), labels=[0, 1])
            ),
            brier=float(brier_score_loss(churned, probability)),
        )


SCORE_FIELDS: tuple[str, ...] = tuple(Scores.__dataclass_fields__)


@dataclass(frozen=True)
class ModelEvaluation:
    """One model's figures on every fold, with mean and standard deviation."""

    model: str
    label: str
    folds: list[Scores]

    def mean(self, figure: str) -> float:
        return float(np.mean([getattr(s, figure) for s in self.folds]))

    def sd(self, figure: str) -> float:
        return float(np.std([getattr(s, figure) for s in self.folds], ddof=1))

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "label": self.label,
            **{f: {"mean": self.mean(f), "sd": self.sd(f)} for f in SCORE_FIELDS},
            "folds": [s.__dict__ for s in self.folds],
        }


@dataclass(frozen=True)
class TableEvaluation:
    """Cross-validated figures for every model on one table."""

    source: str
    rows: int
    churn_rate: float
    target_column: str
    positive_value: str
    column_types: ColumnTypes
    models: list[ModelEvaluation]
    alert_budget: float = ALERT_BUDGET
    folds: int = FOLDS
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows": self.rows,
            "churn_rate": self.churn_rate,
            "target": {"column": self.target_column, "churn_value": self.positive_value},
            "columns": {
                "numeric": list(self.column_types.numeric),
                "categorical": list(self.column_types.categorical),
                "dropped": dict(self.column_types.dropped),
            },
            "cv": f"StratifiedKFold({self.folds}, shuffle=True, random_state={SEED})",
            "alert_budget": self.alert_budget,
            "models": [m.as_dict() for m in self.models],
        }


def cross_validate_table(
    dataset: TableDataset, model_names: Sequence[str], folds: int = FOLDS
) -> TableEvaluation:
    """Stratified k-fold CV of each named model, preprocessing fitted inside each fold."""
    if np.bincount(dataset.target, minlength=2).min() < folds:
        raise InvalidInput(
            f"{dataset.source}: fewer than {folds} rows of one class for {folds} folds"
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    per_model: dict[str, list[Scores]] = {name: [] for name in model_names}
    labels: dict[str, str] = {}
    x = dataset.features
    for train, test in splitter.split(x, dataset.target):
        for name in model_names:
            model = make_model(name, dataset.column_types).fit(x.iloc[train], dataset.target[train])
            labels[name] = model.label
            probability = model.predict_proba(x.iloc[test])
            per_model[name].append(Scores.of(dataset.target[test], probability))
    return TableEvaluation(
        source=dataset.source,
        rows=len(x),
        churn_rate=dataset.churn_rate,
        target_column=dataset.target_column,
        positive_value=dataset.positive_value,
        column_types=dataset.column_types,
        models=[ModelEvaluation(n, labels[n], per_model[n]) for n in model_names],
        folds=folds,
    )


# ---------------------------------------------------------------- event mode


@dataclass(frozen=True)
class TimeFold:
    """Train on observations whose label window closed before ``test_from``; test on one period."""

    test_from: date
    test_until: date
    train_mask: np.ndarray
    test_mask: np.ndarray


def time_ordered_folds(
    observed_on: pd.Series, horizon_days: int, folds: int = 3, min_train_dates: int = 3
) -> list[TimeFold]:
    """Split observation dates into consecutive test blocks with an embargo of one horizon.

    For a test block starting on ``s``, training uses only observations dated on or before
    ``s − horizon`` — their label windows end by ``s`` — so no training label overlaps the test
    period. The earliest dates are never tested: they are the first fold's training data.
    """
    dates = np.array(sorted(observed_on.unique()))
    embargo = timedelta(days=horizon_days)
    # Test blocks: the last dates, cut into ``folds`` consecutive pieces, each with training data.
    testable = [d for d in dates if (dates <= d - embargo).sum() >= min_train_dates]
    if len(testable) < folds:
        raise InvalidInput(
            f"not enough history for {folds} time-ordered folds with a {horizon_days}-day embargo: "
            f"{len(dates)} observation date(s), {len(testable)} with enough training history"
        )
    blocks = np.array_split(np.array(testable), folds)
    values = observed_on.to_numpy()
    result = []
    for block in blocks:
        start, end = block[0], block[-1]
        result.append(
            TimeFold(
                test_from=start,
                test_until=end,
                train_mask=values <= start - embargo,
                test_mask=(values >= start) & (values <= end),
            )
        )
    return result
