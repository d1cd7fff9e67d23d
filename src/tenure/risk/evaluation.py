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
from itertools import pairwise

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from tenure.errors import InvalidInput
from tenure.risk.datasets import ColumnTypes, TableDataset, lost_within
from tenure.risk.models import make_model

ALERT_BUDGET = 0.10
# "Flagged ≥ 90 days ahead": CS teams need a quarter to turn an account around before renewal.
LEAD_DAYS = 90
# A fold needs churners to learn from before its test period starts …
MIN_TRAIN_CHURNERS = 10
# … and several observation dates: one or two dates teach the calendar of those days, not churn
# (a fold with a single training date read AUC 0.42 on a real base, issue 21). Such a fold is
# reported and left out of the figures, never averaged in.
MIN_TRAIN_DATES = 4
# Intervals: accounts drawn with replacement (their observations move together), fixed seed.
BOOTSTRAP_ROUNDS = 200
INTERVAL = 0.95
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


# The metric that says an account's next renewal is already signed (tenure.metrics.commercial).
BOOKED = "renewal_booked"


def renewal_booked(rows: pd.DataFrame) -> np.ndarray:
    """Rows whose next renewal is already booked (all False when the metric is not among them)."""
    if BOOKED not in rows:
        return np.zeros(len(rows), dtype=bool)
    return np.asarray(pd.to_numeric(rows[BOOKED], errors="coerce").fillna(0).to_numpy() > 0)


def booked_as_decided(rows: pd.DataFrame, probability: np.ndarray) -> np.ndarray:
    """``probability`` with 0 for the rows whose next renewal is booked.

    A renewal signed in the customer's favour is decided, as the renewal list says: that
    customer is not lost at it, and on an annual contract it is the one renewal the model's
    window holds. The model still scores such rows from their usage (it learns from them too);
    left in, they take places in the alert set from customers who may still leave — the model
    sees few of them and cannot learn the rule before a year of renewals has been booked.
    """
    return np.where(renewal_booked(rows), 0.0, probability)


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
    observed_on: pd.Series,
    churned: pd.Series,
    horizon_days: int,
    folds: int = 3,
    min_train_churners: int = MIN_TRAIN_CHURNERS,
) -> list[TimeFold]:
    """Split observation dates into consecutive test blocks with an embargo of one horizon.

    For a test block starting on ``s``, training uses only observations dated on or before
    ``s − horizon`` — their label windows end by ``s`` — so no training label overlaps the test
    period. Only dates whose training data holds at least ``min_train_churners`` churners are
    tested; the earlier dates are the first fold's training data.
    """
    dates = np.array(sorted(observed_on.unique()))
    embargo = timedelta(days=horizon_days)
    values = observed_on.to_numpy()
    positives = churned.to_numpy() == 1
    testable = [d for d in dates if positives[values <= d - embargo].sum() >= min_train_churners]
    if len(testable) < folds:
        raise InvalidInput(
            f"not enough history for {folds} time-ordered folds with a {horizon_days}-day embargo: "
            f"{len(dates)} observation date(s), {len(testable)} with at least "
            f"{min_train_churners} churners to learn from before them"
        )
    result = []
    for block in np.array_split(np.array(testable), folds):
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


@dataclass(frozen=True)
class SkippedFold:
    """A fold that could not be tested fairly, and why (reported, not averaged in)."""

    number: int
    test_from: date
    test_until: date
    train_rows: int
    train_dates: int
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            **self.__dict__,
            "test_from": str(self.test_from),
            "test_until": str(self.test_until),
        }


@dataclass(frozen=True)
class Backtest:
    """Out-of-time predictions for every tested observation, and the figures of each fold."""

    predictions: pd.DataFrame
    folds: list[TimeFold]
    fold_scores: list[Scores]
    pooled: Scores
    skipped: list[SkippedFold] = field(default_factory=list)


def _unfit_reason(train: pd.DataFrame, test: pd.DataFrame) -> str | None:
    dates = train["observed_on"].nunique()
    if dates < MIN_TRAIN_DATES:
        return (
            f"only {dates} observation date(s) to learn from before the test period "
            f"(at least {MIN_TRAIN_DATES} needed)"
        )
    if train["churned"].nunique() < 2:
        return "no churner (or no stayer) to learn from before the test period"
    if test["churned"].nunique() < 2:
        return "no churner (or no stayer) in the test period"
    return None


def backtest(
    dataset: pd.DataFrame,
    column_types: ColumnTypes,
    horizon_days: int,
    model_name: str,
    folds: int = 3,
    lead_days: int = 0,
) -> Backtest:
    """Fit on the past, predict the next period, for each time-ordered fold (with embargo).

    ``dataset`` has account_id, observed_on, churned_on, churned and the feature columns. With a
    lead, training leaves out rows lost within it (:func:`lost_within`); every test row is
    scored, as every customer is on a scoring day; a row whose renewal is booked scores 0
    (:func:`booked_as_decided`). A fold with too few training dates or one
    class only is skipped and listed in ``skipped``. Returns the test rows (account_id,
    observed_on, churned, probability, fold) of every tested fold.
    """
    splits = time_ordered_folds(dataset["observed_on"], dataset["churned"], horizon_days, folds)
    decided = lost_within(dataset, lead_days)
    parts = []
    scores = []
    tested = []
    skipped = []
    for number, split in enumerate(splits, start=1):
        train = dataset[split.train_mask & ~decided]
        test = dataset[split.test_mask]
        reason = _unfit_reason(train, test)
        if reason is not None:
            skipped.append(
                SkippedFold(
                    number,
                    split.test_from,
                    split.test_until,
                    len(train),
                    int(train["observed_on"].nunique()),
                    reason,
                )
            )
            continue
        model = make_model(model_name, column_types).fit(train, train["churned"].to_numpy())
        probability = booked_as_decided(test, model.predict_proba(test))
        scores.append(Scores.of(test["churned"].to_numpy(), probability))
        tested.append(split)
        parts.append(
            test[["account_id", "observed_on", "churned"]].assign(
                probability=probability, fold=number
            )
        )
    if not parts:
        reasons = "; ".join(f"fold {s.number}: {s.reason}" for s in skipped)
        raise InvalidInput(
            f"no fold could be tested ({reasons}); more history or more accounts are needed"
        )
    predictions = pd.concat(parts, ignore_index=True)
    pooled = Scores.of(predictions["churned"].to_numpy(), predictions["probability"].to_numpy())
    return Backtest(predictions, tested, scores, pooled, skipped)


@dataclass(frozen=True)
class EarlyWarning:
    """How early the alert set catches churners (definitions in ENGINEERING.md).

    - alert set: top ``budget`` of the accounts scored on a date;
    - flagged ≥ ``lead_days`` ahead: the churner is in the alert set on the last scoring date at
      least ``lead_days`` before its renewal (one date per churner; churners without a scoring
      date in the scoring interval before that point are not counted). ENGINEERING.md names the
      day exactly ``lead_days`` before; weekly scoring dates fall at most six days earlier;
    - lead time: renewal minus the first scoring date, within the 365 days before it, on which the
      churner was in the alert set.
    """

    churners: int
    flagged_ahead: int
    lead_days: int
    lead_times: list[int]
    never_flagged: int
    # (account_id, flagged ahead) for every counted churner: what the interval resamples.
    outcomes: list[tuple[int, bool]] = field(default_factory=list)
    # account_id → lead time in days (0: never in the alert set within the 365 days) for every
    # counted churner: what a head-to-head of two scores compares.
    lead_by_account: dict[int, int] = field(default_factory=dict)

    @property
    def flagged_ahead_share(self) -> float:
        return self.flagged_ahead / self.churners if self.churners else float("nan")

    def lead_time_quantiles(self) -> dict[str, float | None]:
        if not self.lead_times:
            return {"p25": None, "p50": None, "p75": None}
        q = np.percentile(self.lead_times, [25, 50, 75])
        return {"p25": float(q[0]), "p50": float(q[1]), "p75": float(q[2])}

    def as_dict(self) -> dict[str, object]:
        return {
            "churners": self.churners,
            f"flagged_{self.lead_days}d_ahead": self.flagged_ahead,
            f"flagged_{self.lead_days}d_ahead_share": self.flagged_ahead_share,
            "lead_time_days": self.lead_time_quantiles(),
            "never_flagged_within_365d": self.never_flagged,
        }


def early_warning(
    scored: pd.DataFrame,
    renewals: pd.DataFrame,
    score_column: str = "probability",
    lead_days: int = LEAD_DAYS,
    budget: float = ALERT_BUDGET,
    alert_column: str | None = None,
) -> EarlyWarning:
    """Early-warning figures for churners whose lead date falls inside the scored dates.

    ``scored``: account_id, observed_on, and a score column (every account scored per date).
    ``renewals``: account_id, renewal_on — the renewal at which each churner was lost.
    ``alert_column`` names a boolean column that is the alert set instead of the top ``budget``
    (a health score's red band, say).
    """
    flagged = scored.assign(
        alert=scored[alert_column].astype(bool)
        if alert_column is not None
        else scored.groupby("observed_on")[score_column].transform(
            lambda s: alert_set(s.to_numpy(), budget)
        )
    )
    dates = np.array(sorted(flagged["observed_on"].unique()))
    # The longest gap between scoring dates (a week when scoring weekly).
    interval = max(((b - a).days for a, b in pairwise(dates)), default=31)
    alerts = flagged.set_index(["account_id", "observed_on"])["alert"]
    churners = ahead = never = 0
    lead_times = []
    outcomes = []
    lead_by_account: dict[int, int] = {}
    for account_id, renewal_on in renewals[["account_id", "renewal_on"]].itertuples(index=False):
        lead_date = renewal_on - timedelta(days=lead_days)
        eligible = dates[dates <= lead_date]
        # Measurable only when a scoring date falls within one interval before the lead date
        # and the account was scored on it (a customer then).
        if (
            not len(eligible)
            or (lead_date - eligible[-1]).days > interval
            or (account_id, eligible[-1]) not in alerts.index
        ):
            continue
        churners += 1
        hit = bool(alerts[(account_id, eligible[-1])])
        ahead += hit
        outcomes.append((int(account_id), hit))
        window = dates[(dates >= renewal_on - timedelta(days=365)) & (dates < renewal_on)]
        hits = [d for d in window if bool(alerts.get((account_id, d), False))]
        if hits:
            lead_times.append((renewal_on - hits[0]).days)
        else:
            never += 1
        lead_by_account[int(account_id)] = (renewal_on - hits[0]).days if hits else 0
    return EarlyWarning(churners, ahead, lead_days, lead_times, never, outcomes, lead_by_account)


@dataclass(frozen=True)
class Interval:
    """A figure's mean over the tested folds and its 95% interval (account bootstrap)."""

    fold_mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, object]:
        return {"fold_mean": self.fold_mean, "ci95": [self.low, self.high]}


@dataclass(frozen=True)
class RankingFigures:
    """What one score (a model, a baseline, the oracle) achieves on the tested observations."""

    name: str
    scores: Scores
    early_warning: EarlyWarning
    intervals: dict[str, Interval] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            **self.scores.__dict__,
            **self.early_warning.as_dict(),
            "intervals": {k: v.as_dict() for k, v in self.intervals.items()},
        }


def weighted_auc(churned: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """AUC with row weights (ties count half), as ``roc_auc_score(..., sample_weight=)``.

    >>> weighted_auc(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.5, 0.5]), np.ones(4))
    0.875
    """
    _, group = np.unique(scores, return_inverse=True)
    positive = np.bincount(group, weights * churned)
    negative = np.bincount(group, weights * (1 - churned))
    below = np.cumsum(negative) - negative
    pairs = positive.sum() * negative.sum()
    return float((positive * (below + 0.5 * negative)).sum() / pairs) if pairs else float("nan")


def _weighted_lift(churned: np.ndarray, flagged: np.ndarray, weights: np.ndarray) -> float:
    base = (weights * churned).sum() / weights.sum()
    in_set = (weights * flagged).sum()
    if not base or not in_set:
        return float("nan")
    return float((weights * churned * flagged).sum() / in_set / base)


def account_weights(
    accounts: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = SEED
) -> np.ndarray:
    """``rounds`` × rows: how often each row's account was drawn in each bootstrap round."""
    ids, index = np.unique(accounts, return_inverse=True)
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=rounds)
    return np.asarray(drawn[:, index], dtype=float)


def _percentiles(values: list[float]) -> tuple[float, float]:
    tail = (1 - INTERVAL) / 2 * 100
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def figure_intervals(
    scored: pd.DataFrame, score_column: str, warning: EarlyWarning, renewals: pd.DataFrame
) -> dict[str, Interval]:
    """AUC, top-decile lift and the share flagged ahead: fold mean and 95% account-bootstrap
    interval of the pooled figure (accounts resampled, each with all its observations)."""
    churned = scored["churned"].to_numpy(dtype=float)
    values = scored[score_column].to_numpy(dtype=float)
    flagged = alert_set(values, 0.10)
    rows = account_weights(scored["account_id"].to_numpy())
    aucs = [weighted_auc(churned, values, w) for w in rows]
    lifts = [_weighted_lift(churned, flagged, w) for w in rows]
    fold_auc, fold_lift, fold_share = [], [], []
    for _, fold in scored.groupby("fold"):
        y, v = fold["churned"].to_numpy(), fold[score_column].to_numpy(dtype=float)
        if len(np.unique(y)) == 2:
            fold_auc.append(float(roc_auc_score(y, v)))
            fold_lift.append(top_decile_lift(y, v))
        share = early_warning(fold, renewals, score_column).flagged_ahead_share
        fold_share.append(share)
    result = {
        "auc": Interval(_mean(fold_auc), *_percentiles(aucs)),
        "top_decile_lift": Interval(_mean(fold_lift), *_percentiles(lifts)),
    }
    if warning.outcomes:
        ids = np.array([a for a, _ in warning.outcomes])
        hits = np.array([h for _, h in warning.outcomes], dtype=float)
        draws = account_weights(ids)
        shares = [float((w * hits).sum() / w.sum()) for w in draws if w.sum()]
        result[f"flagged_{warning.lead_days}d_ahead_share"] = Interval(
            _mean(fold_share), *_percentiles(shares)
        )
    return result


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def rank_figures(
    name: str, scored: pd.DataFrame, score_column: str, renewals: pd.DataFrame
) -> RankingFigures:
    """Ranking and early-warning figures of ``score_column`` (higher = riskier) on ``scored``,
    each with its fold mean and 95% interval when ``scored`` has a ``fold`` column."""
    values = scored[score_column].to_numpy(dtype=float)
    # Probabilities are bounded; a raw baseline (days since activity) is squashed for log loss.
    bounded = values if np.all((values >= 0) & (values <= 1)) else _rank_share(values)
    warning = early_warning(scored, renewals, score_column)
    intervals = (
        figure_intervals(scored, score_column, warning, renewals) if "fold" in scored else {}
    )
    return RankingFigures(
        name, Scores.of(scored["churned"].to_numpy(), bounded), warning, intervals
    )


def _rank_share(values: np.ndarray) -> np.ndarray:
    order = pd.Series(values).rank(method="average").to_numpy()
    return np.asarray(order / (len(values) + 1))
