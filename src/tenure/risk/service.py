"""Load, fit, score and store: the I/O side of churn risk (pure computation lives beside it).

Functions take the session first; they flush, never commit (the surface owns the transaction).

- :func:`evaluate_table` — table mode (CSV/Parquet with a churn column);
- :func:`evaluate_history` — time-ordered backtest on the accounts' own history;
- :func:`fit_and_save` — backtest, fit on all known outcomes, save under ``<data_dir>/models``;
- :func:`tenure.risk.scoring.score_accounts` — score every current customer with the latest
  model and store it; :mod:`tenure.risk.history` loads the account history all of them read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.risk.billing import Cadence, billing_cadences
from tenure.risk.datasets import (
    ColumnTypes,
    horizon_labels,
    lost_within,
    read_table,
    renewal_labels,
    table_dataset,
)
from tenure.risk.evaluation import (
    ALERT_BUDGET,
    Backtest,
    RankingFigures,
    Scores,
    TableEvaluation,
    backtest,
    cross_validate_table,
    rank_figures,
)
from tenure.risk.figures import risk_window
from tenure.risk.history import (
    History,
    contract_terms,
    feature_types,
    load_history,
)
from tenure.risk.leaks import LeakFinding, LeakSuspected, contract_layout_leaks, feature_leaks
from tenure.risk.models import MODELS, ChurnModel, GradientBoostingChurnModel, make_model
from tenure.store.events import EventStore

# The horizon and lead follow the base's billing periods: tenure.risk.billing.DEFAULTS says why.
# On account history the risk depends on interactions (renewal timing × engagement) that a linear
# model cannot express; boosting ranked best in backtests on simulated bases (see the report).
DEFAULT_HISTORY_MODEL = GradientBoostingChurnModel.name
# "Next renewal" risk covers renewals due within a year: every term renews at least yearly.
RENEWAL_WITHIN_DAYS = 365
# The naive baseline every figure is compared with: longer silence = riskier.
NAIVE_BASELINE = "days_since_last_activity"
ARR_METRICS = ("arr", "arr_currency")


def evaluate_table(
    path: Path, target: str, model_names: Sequence[str] = tuple(MODELS)
) -> TableEvaluation:
    """5-fold stratified CV of each model on a CSV/Parquet table with a churn target column."""
    dataset = table_dataset(read_table(path), target, source=str(path))
    return cross_validate_table(dataset, model_names)


@dataclass(frozen=True)
class HistoryEvaluation:
    """Backtest figures of the model beside the naive baseline and any other comparisons."""

    data_end: date
    horizon_days: int
    lead_days: int
    model: str
    rows: int
    accounts: int
    churn_rate: float
    folds: list[dict[str, object]]
    figures: list[RankingFigures]
    column_types: ColumnTypes
    # With a lead: the model's figures against every loss within the horizon, decided ones too.
    within_horizon: Scores | None = None
    notes: list[str] = field(default_factory=list)
    # The billing group this window was chosen for, and why (risk.billing).
    billing: dict[str, object] | None = None
    skipped_folds: list[dict[str, object]] = field(default_factory=list)
    leaks_allowed: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "data_end": self.data_end.isoformat(),
            "billing": self.billing,
            "horizon_days": self.horizon_days,
            "lead_days": self.lead_days,
            "model": self.model,
            "observations": self.rows,
            "accounts": self.accounts,
            "churn_rate": self.churn_rate,
            "alert_budget": ALERT_BUDGET,
            "folds": self.folds,
            "skipped_folds": self.skipped_folds,
            "figures": [f.as_dict() for f in self.figures],
            "model_vs_lost_within_horizon": _none_or(self.within_horizon),
            "features": list(self.column_types.features),
            "leak_guard": {"overridden": bool(self.leaks_allowed), "findings": self.leaks_allowed},
            "notes": self.notes,
        }


def _none_or(scores: Scores | None) -> dict[str, float] | None:
    return None if scores is None else dict(scores.__dict__)


# A comparison scores the tested observations (label and feature columns) by risk, higher riskier.
Comparison = Callable[[pd.DataFrame], np.ndarray]


def naive_silence(tested: pd.DataFrame) -> np.ndarray:
    """The naive baseline: days since last activity (never active counts as the longest)."""
    silence = tested[NAIVE_BASELINE].astype(float)
    longest = silence.max() + 1 if silence.notna().any() else 0.0
    return np.asarray(silence.fillna(longest), dtype=float)


@dataclass(frozen=True)
class Observations:
    """One billing group's labelled rows, ready to learn from (after the leak guard)."""

    history: History
    cadence: Cadence
    rows: pd.DataFrame
    types: ColumnTypes
    leaks: list[LeakFinding]

    @property
    def learned(self) -> pd.DataFrame:
        """The rows a model learns from: not those already lost within the lead."""
        return self.rows[~lost_within(self.rows, self.cadence.lead_days)]


def observations(history: History, cadence: Cadence, *, allow_leaks: bool = False) -> Observations:
    """The cadence's labelled rows; stops with :class:`LeakSuspected` unless ``allow_leaks``."""
    part = history.of(cadence.accounts)
    labels = horizon_labels(
        part.customers, cadence.horizon_days, history.data_end, cadence.lead_days
    )
    rows = part.rows(labels)
    types = feature_types(rows)
    learned = rows[~lost_within(rows, cadence.lead_days)]
    leaks = contract_layout_leaks(part.terms, types.features) + feature_leaks(
        learned, types, learned["churned"].to_numpy()
    )
    if leaks and not allow_leaks:
        raise LeakSuspected(leaks)
    return Observations(part, cadence, rows, types, leaks)


def _evaluate(
    observed: Observations,
    model_name: str,
    comparisons: Mapping[str, Comparison] | None = None,
) -> HistoryEvaluation:
    history, rows, types = observed.history, observed.rows, observed.types
    horizon, lead_days = observed.cadence.horizon_days, observed.cadence.lead_days
    result: Backtest = backtest(rows, types, horizon, model_name, lead_days=lead_days)
    tested = result.predictions.merge(
        rows.drop(columns=["churned"]), on=["account_id", "observed_on"]
    )
    figures = [rank_figures(model_name, tested, "probability", history.churn_renewals)]
    within = None
    if lead_days:
        lost = lost_within(tested, horizon).astype(int)
        within = Scores.of(lost, tested["probability"].to_numpy())
    notes = [
        f"leak guard overridden: {finding} — these figures are not to be trusted"
        for finding in observed.leaks
    ]
    notes += [
        f"fold {s.number} ({s.test_from}…{s.test_until}) not tested: {s.reason}"
        for s in result.skipped
    ]
    others: dict[str, Comparison] = {}
    if NAIVE_BASELINE in tested:
        others[f"naive: {NAIVE_BASELINE.replace('_', ' ')}"] = naive_silence
    else:
        notes.append(f"naive baseline {NAIVE_BASELINE!r} is not among the model's metrics")
    others.update(comparisons or {})
    for name, comparison in others.items():
        scored = tested.assign(comparison=comparison(tested))
        figures.append(rank_figures(name, scored, "comparison", history.churn_renewals))
    folds = [
        {
            "number": int(number),
            "test_from": str(f.test_from),
            "test_until": str(f.test_until),
            "train_rows": int(f.train_mask.sum()),
            "train_dates": int(rows.loc[f.train_mask, "observed_on"].nunique()),
            "test_rows": int(f.test_mask.sum()),
            **s.__dict__,
        }
        for number, f, s in zip(
            sorted(result.predictions["fold"].unique()),
            result.folds,
            result.fold_scores,
            strict=True,
        )
    ]
    return HistoryEvaluation(
        data_end=history.data_end,
        horizon_days=horizon,
        lead_days=lead_days,
        model=model_name,
        rows=len(rows),
        accounts=int(rows["account_id"].nunique()),
        churn_rate=float(rows["churned"].mean()),
        folds=folds,
        figures=figures,
        column_types=types,
        within_horizon=within,
        notes=notes,
        billing=observed.cadence.as_dict(),
        skipped_folds=[s.as_dict() for s in result.skipped],
        leaks_allowed=[finding.as_dict() for finding in observed.leaks],
    )


@dataclass(frozen=True)
class BaseEvaluation:
    """The backtest of every billing group of the base (one for a monthly or annual base)."""

    data_end: date
    parts: list[HistoryEvaluation]
    # Billing groups too small or too short to backtest: their window and the reason.
    unevaluated: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "data_end": self.data_end.isoformat(),
            "billing": [part.billing for part in self.parts],
            "evaluations": [part.as_dict() for part in self.parts],
            "not_evaluated": self.unevaluated,
        }


def evaluate_history(
    session: Session,
    store: EventStore,
    data_end: date,
    horizon_days: int | None = None,
    model_name: str = DEFAULT_HISTORY_MODEL,
    metrics: Sequence[str] | None = None,
    every_weeks: int | None = None,
    comparisons: Callable[[Cadence], Mapping[str, Comparison]] | None = None,
    lead_days: int | None = None,
    *,
    allow_leaks: bool = False,
) -> BaseEvaluation:
    """Time-ordered backtest (embargo = horizon) of the model on the accounts' own history.

    The window (horizon, lead) and cadence follow the contracts' billing periods unless given
    (:func:`tenure.risk.billing.billing_cadences`); a mixed base is evaluated per billing group.
    The naive baseline is always reported beside the model; ``comparisons`` give, per billing
    group, other scores (a health scorecard, or in evaluation code the simulator's truth) on the
    same rows. The leak guard runs first (``allow_leaks`` overrides it; the figures say so).
    """
    terms = contract_terms(session)
    cadences = billing_cadences(terms, horizon_days, lead_days, every_weeks)
    every = min(c.every_weeks for c in cadences)
    history = load_history(session, store, data_end, metrics, every)
    return evaluate_loaded_history(
        history, cadences, model_name, comparisons, allow_leaks=allow_leaks
    )


def evaluate_loaded_history(
    history: History,
    cadences: Sequence[Cadence],
    model_name: str = DEFAULT_HISTORY_MODEL,
    comparisons: Callable[[Cadence], Mapping[str, Comparison]] | None = None,
    *,
    allow_leaks: bool = False,
) -> BaseEvaluation:
    """:func:`evaluate_history` on a history already loaded (``load_history``) for the billing
    groups' ``cadences``: several metric sets can then be backtested on the same rows."""
    data_end = history.data_end
    parts: list[HistoryEvaluation] = []
    unevaluated: list[dict[str, object]] = []
    for cadence in cadences:
        observed = observations(history, cadence, allow_leaks=allow_leaks)
        try:
            parts.append(
                _evaluate(observed, model_name, comparisons(cadence) if comparisons else None)
            )
        except InvalidInput as error:
            if len(cadences) == 1:
                raise
            unevaluated.append({"billing": cadence.as_dict(), "error": error.message})
    if not parts:
        reasons = "; ".join(f"{u['billing']['billing']}: {u['error']}" for u in unevaluated)  # type: ignore[index]
        raise InvalidInput(f"no billing group could be backtested ({reasons})")
    return BaseEvaluation(data_end, parts, unevaluated)


# ---------------------------------------------------------------- fit, save, load


@dataclass
class ChurnRiskModel:
    """A fitted churn-risk model as saved: both models, their inputs, and how they scored.

    On a mixed base (monthly and annual billing) each billing group has its own window and
    model: ``billing_groups`` holds the other groups' models with the accounts they cover; this
    one scores every account they do not.
    """

    version: str
    data_end: date
    horizon_days: int
    metrics: list[str] | None
    column_types: ColumnTypes
    model: ChurnModel
    renewal_model: ChurnModel | None
    evaluation: dict[str, Any]
    trained_rows: int
    # Models saved before leads existed predicted churn within the horizon: a lead of 0.
    lead_days: int = 0
    billing: str = "all"
    accounts: frozenset[int] | None = None
    billing_groups: list[ChurnRiskModel] = field(default_factory=list)

    def groups(self) -> list[ChurnRiskModel]:
        return [self, *getattr(self, "billing_groups", [])]


def _renewal_backtest(rows: pd.DataFrame, types: ColumnTypes, model_name: str) -> dict[str, Any]:
    """Out-of-time figures of P(churn at next renewal); the embargo is the year a label spans."""
    try:
        result = backtest(rows, types, RENEWAL_WITHIN_DAYS, model_name)
    except InvalidInput as error:
        return {"error": error.message}
    return {
        "observations": len(rows),
        "churn_rate": float(rows["churned"].mean()),
        "test_from": str(result.folds[0].test_from),
        **result.pooled.__dict__,
    }


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models" / "churn"


def _version(parts: Sequence[Observations], data_end: date, model_name: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(pd.util.hash_pandas_object(part.rows, index=False).to_numpy().tobytes())
    windows = "+".join(f"h{p.cadence.horizon_days}-l{p.cadence.lead_days}" for p in parts)
    digest.update(f"{windows}:{model_name}".encode())
    return f"churn-{data_end:%Y%m%d}-{windows}-{digest.hexdigest()[:10]}"


def _fit_group(
    observed: Observations, model_name: str, metrics: Sequence[str] | None, version: str
) -> ChurnRiskModel:
    """Backtest, then fit one billing group's models on every known outcome."""
    history, types, cadence = observed.history, observed.types, observed.cadence
    try:
        evaluation: dict[str, Any] = _evaluate(observed, model_name).as_dict()
    except InvalidInput as error:
        # Too little history to backtest is no reason to refuse a model; the version says so.
        evaluation = {"error": error.message, "billing": cadence.as_dict()}
    learned = observed.learned
    if learned["churned"].nunique() < 2:
        raise InvalidInput(
            f"no churn (or no renewal) {risk_window(cadence.horizon_days, cadence.lead_days)} "
            f"in the history up to {history.data_end} ({cadence.statement}): nothing to learn from"
        )
    model = make_model(model_name, types).fit(learned, learned["churned"].to_numpy())
    renewal_rows = history.rows(
        renewal_labels(history.customers, history.data_end, RENEWAL_WITHIN_DAYS)
    )
    renewal_model = None
    evaluation["renewal"] = _renewal_backtest(renewal_rows, types, model_name)
    if renewal_rows["churned"].nunique() == 2:
        renewal_model = make_model(model_name, types).fit(
            renewal_rows, renewal_rows["churned"].to_numpy()
        )
    return ChurnRiskModel(
        version=version,
        data_end=history.data_end,
        horizon_days=cadence.horizon_days,
        metrics=list(metrics) if metrics is not None else None,
        column_types=types,
        model=model,
        renewal_model=renewal_model,
        evaluation=evaluation,
        trained_rows=len(learned),
        lead_days=cadence.lead_days,
        billing=cadence.billing,
        accounts=cadence.accounts,
    )


def fit_and_save(
    session: Session,
    store: EventStore,
    data_dir: Path,
    data_end: date,
    horizon_days: int | None = None,
    model_name: str = DEFAULT_HISTORY_MODEL,
    metrics: Sequence[str] | None = None,
    every_weeks: int | None = None,
    lead_days: int | None = None,
    *,
    allow_leaks: bool = False,
) -> ChurnRiskModel:
    """Backtest, then fit on every known outcome up to ``data_end`` and save under data_dir.

    The window follows the billing periods unless given; a mixed base gets one model per
    billing group, saved together (the largest group first).
    """
    import joblib

    terms = contract_terms(session)
    cadences = billing_cadences(terms, horizon_days, lead_days, every_weeks)
    cadences.sort(key=lambda c: -(len(c.accounts) if c.accounts is not None else len(terms)))
    history = load_history(session, store, data_end, metrics, min(c.every_weeks for c in cadences))
    parts = [observations(history, c, allow_leaks=allow_leaks) for c in cadences]
    version = _version(parts, data_end, model_name)
    groups, not_fitted = [], []
    for part in parts:
        try:
            groups.append(_fit_group(part, model_name, metrics, version))
        except InvalidInput as error:
            if len(parts) == 1:
                raise
            not_fitted.append({"billing": part.cadence.as_dict(), "error": error.message})
    if not groups:
        reasons = "; ".join(f"{n['billing']['billing']}: {n['error']}" for n in not_fitted)  # type: ignore[index]
        raise InvalidInput(f"no billing group could be fitted ({reasons})")
    fitted = groups[0]
    # A group with nothing to learn from yet is scored by the largest group's model.
    fitted.evaluation["billing_groups_not_fitted"] = not_fitted
    # The first group scores every account no other group covers (new ones too).
    fitted.accounts = None
    fitted.billing_groups = groups[1:]
    folder = models_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(fitted, folder / f"{fitted.version}.joblib")
    summary = {
        "version": fitted.version,
        "model": model_name,
        "data_end": data_end.isoformat(),
        "billing_groups": [
            {
                "billing": group.billing,
                "horizon_days": group.horizon_days,
                "lead_days": group.lead_days,
                "trained_rows": group.trained_rows,
                "evaluation": group.evaluation,
            }
            for group in groups
        ],
        "saved_at": datetime.now(UTC).isoformat(),
    }
    (folder / f"{fitted.version}.json").write_text(json.dumps(summary, indent=2))
    (folder / "LATEST").write_text(fitted.version + "\n")
    return fitted


def load_model(data_dir: Path, version: str | None = None) -> ChurnRiskModel:
    """The saved model ``version``, or the latest one fitted."""
    import joblib

    folder = models_dir(data_dir)
    if version is None:
        latest = folder / "LATEST"
        if not latest.exists():
            raise NotFound("no churn model fitted yet; run `tenure model fit` first")
        version = latest.read_text().strip()
    path = folder / f"{version}.joblib"
    if not path.exists():
        raise NotFound(f"no saved churn model {version!r} in {folder}")
    fitted = joblib.load(path)
    if not isinstance(fitted, ChurnRiskModel):
        raise InvalidInput(f"{path} is not a churn model saved by Tenure")
    return fitted
