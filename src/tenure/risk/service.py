"""Load, fit, score and store: the I/O side of churn risk (pure computation lives beside it).

Functions take the session first; they flush, never commit (the surface owns the transaction).

- :func:`evaluate_table` — table mode (CSV/Parquet with a churn column);
- :func:`evaluate_history` — time-ordered backtest on the accounts' own history;
- :func:`fit_and_save` — backtest, fit on all known outcomes, save under ``<data_dir>/models``;
- :func:`score_accounts` — score every current customer with the latest model and store it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, ChurnRiskScore, Contract
from tenure.model.contract import ContractStatus, RenewalOutcome
from tenure.risk.datasets import (
    ColumnTypes,
    ContractTerm,
    change_reference,
    customers_on,
    horizon_labels,
    infer_column_types,
    lost_within,
    metric_features,
    observation_dataset,
    read_table,
    renewal_labels,
    table_dataset,
    weekly_dates,
    with_changes,
)
from tenure.risk.evaluation import (
    ALERT_BUDGET,
    Backtest,
    RankingFigures,
    Scores,
    TableEvaluation,
    alert_set,
    backtest,
    cross_validate_table,
    rank_figures,
)
from tenure.risk.figures import churn_probability_sql
from tenure.risk.models import MODELS, ChurnModel, GradientBoostingChurnModel, make_model
from tenure.risk.reasons import top_reasons
from tenure.risk.schemas import ChurnRiskRead, ScoreRun
from tenure.store.events import EventStore

# The alert must fire at least 90 days before a renewal (LEAD_DAYS); a horizon a month longer
# keeps the renewals just past that point among the positives. A longer horizon blurs the ranking
# with renewals too far off to call (150 days flagged fewer churners ahead on the development
# seeds; 100 days the same as 120 — docs/churn-risk.md).
DEFAULT_HORIZON_DAYS = 120
# The risk that drives alerts is of a loss 30 to 120 days ahead: an account lost within a month has
# decided (the renewal list shows it, with P(churn at renewal)); learning from it would spend the
# alert budget where no save play has time to work. Chosen on the development seeds among 0, 30,
# 60 and 90 days: 30 keeps AUC and lift of "lost within 120 days" within 1% of no lead; longer
# leads flag more churners early but lift falls towards 4 (docs/churn-risk.md).
DEFAULT_LEAD_DAYS = 30
# On account history the risk depends on interactions (renewal timing × engagement) that a linear
# model cannot express; boosting ranked best in backtests on simulated bases (see the report).
DEFAULT_HISTORY_MODEL = GradientBoostingChurnModel.name
# Metrics need some history (28-day windows, trends) before an observation means anything.
WARMUP_DAYS = 60
# "Next renewal" risk covers renewals due within a year: every term renews at least yearly.
RENEWAL_WITHIN_DAYS = 365
# The naive baseline every figure is compared with: longer silence = riskier.
NAIVE_BASELINE = "days_since_last_activity"
ARR_METRICS = ("arr", "arr_currency")
LABEL_COLUMNS = ("account_id", "observed_on", "next_renewal_on", "churned_on", "churned")


def evaluate_table(
    path: Path, target: str, model_names: Sequence[str] = tuple(MODELS)
) -> TableEvaluation:
    """5-fold stratified CV of each model on a CSV/Parquet table with a churn target column."""
    dataset = table_dataset(read_table(path), target, source=str(path))
    return cross_validate_table(dataset, model_names)


# ---------------------------------------------------------------- history


def contract_terms(session: Session) -> list[ContractTerm]:
    """Every signed contract term; a term that was not renewed or was cancelled marks a loss."""
    rows = session.execute(
        sa.select(
            Contract.account_id,
            Contract.starts_on,
            Contract.ends_on,
            Contract.status,
            Contract.renewal_outcome,
            Contract.outcome_on,
        ).where(Contract.status != ContractStatus.pending)
    )
    terms = []
    for row in rows:
        churned_on = None
        if row.status == ContractStatus.cancelled:
            # Cancelled early: lost on the cancellation date.
            churned_on = row.outcome_on or row.ends_on
        elif row.renewal_outcome == RenewalOutcome.churned:
            # Not renewed: lost at the renewal date, the date CS teams work towards.
            churned_on = row.ends_on
        terms.append(ContractTerm(row.account_id, row.starts_on, row.ends_on, churned_on))
    return terms


def latest_data_day(store: EventStore) -> date:
    """The last day with events (the natural "today" of an imported or simulated history)."""
    stats = store.stats()
    if stats.last is None:
        return datetime.now(UTC).date()
    last: datetime = stats.last
    return last.date()


@dataclass(frozen=True)
class History:
    """Customers on each weekly observation date and the metrics known on that date."""

    data_end: date
    customers: pd.DataFrame
    features: dict[date, pd.DataFrame]
    churn_renewals: pd.DataFrame

    def rows(self, labels: pd.DataFrame) -> pd.DataFrame:
        return observation_dataset(labels, self.features)


def load_history(
    session: Session,
    store: EventStore,
    data_end: date,
    metrics: Sequence[str] | None = None,
    every_weeks: int = 1,
) -> History:
    """Customers on every ``every_weeks``-th Monday up to ``data_end``, with the metrics (all,
    or the named ones) known on each of those days and on the days their changes compare with."""
    terms = contract_terms(session)
    if not terms:
        raise InvalidInput("no contracts: churn is learned from contract outcomes; import them")
    first = min(term.starts_on for term in terms)
    first_event = store.stats().first
    if first_event is not None:
        # Before usage was recorded every usage metric reads zero: such rows would teach the
        # model that silence is normal.
        first = max(first, first_event.date())
    dates = weekly_dates(first + timedelta(days=WARMUP_DAYS), data_end)[::every_weeks]
    customers = customers_on(terms, dates)
    if customers.empty:
        raise InvalidInput(f"no customers on any Monday between {first} and {data_end}")
    from tenure.metrics.snapshot import load_snapshot

    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        observed = set(customers["observed_on"].unique())
        # A cadence that is not a divisor of the change window needs the reference days too.
        references = {change_reference(day) for day in observed}
        needed = sorted(observed | {day for day in references if day >= dates[0]})
        features = with_changes(metric_features(con, store.table(con), snapshot, needed, metrics))
    finally:
        con.disconnect()
    # The renewal at which each churner was lost: the date the lead time counts back from.
    lost = [
        (t.account_id, t.churned_on) for t in terms if t.churned_on and t.churned_on <= data_end
    ]
    renewals = pd.DataFrame(lost, columns=["account_id", "renewal_on"])
    return History(data_end, customers, features, renewals)


def feature_types(rows: pd.DataFrame) -> ColumnTypes:
    _, types = infer_column_types(rows.drop(columns=list(LABEL_COLUMNS)), drop_identifiers=False)
    return types


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

    def as_dict(self) -> dict[str, object]:
        return {
            "data_end": self.data_end.isoformat(),
            "horizon_days": self.horizon_days,
            "lead_days": self.lead_days,
            "model": self.model,
            "observations": self.rows,
            "accounts": self.accounts,
            "churn_rate": self.churn_rate,
            "alert_budget": ALERT_BUDGET,
            "folds": self.folds,
            "figures": [f.as_dict() for f in self.figures],
            "model_vs_lost_within_horizon": _none_or(self.within_horizon),
            "features": list(self.column_types.features),
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


def _evaluate(
    history: History,
    rows: pd.DataFrame,
    types: ColumnTypes,
    horizon: int,
    lead_days: int,
    model_name: str,
    comparisons: Mapping[str, Comparison] | None = None,
) -> HistoryEvaluation:
    result: Backtest = backtest(rows, types, horizon, model_name, lead_days=lead_days)
    tested = result.predictions.merge(
        rows.drop(columns=["churned"]), on=["account_id", "observed_on"]
    )
    figures = [rank_figures(model_name, tested, "probability", history.churn_renewals)]
    within = None
    if lead_days:
        lost = lost_within(tested, horizon).astype(int)
        within = Scores.of(lost, tested["probability"].to_numpy())
    notes = []
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
            "test_from": str(f.test_from),
            "test_until": str(f.test_until),
            "train_rows": int(f.train_mask.sum()),
            "test_rows": int(f.test_mask.sum()),
            **s.__dict__,
        }
        for f, s in zip(result.folds, result.fold_scores, strict=True)
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
    )


def evaluate_history(
    session: Session,
    store: EventStore,
    data_end: date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    model_name: str = DEFAULT_HISTORY_MODEL,
    metrics: Sequence[str] | None = None,
    every_weeks: int = 1,
    comparisons: Mapping[str, Comparison] | None = None,
    lead_days: int = DEFAULT_LEAD_DAYS,
) -> HistoryEvaluation:
    """Time-ordered backtest (embargo = horizon) of the model on the accounts' own history.

    The naive baseline is always reported beside the model; ``comparisons`` add other scores
    (a health scorecard, or in evaluation code the simulator's latent value) on the same rows.
    """
    history = load_history(session, store, data_end, metrics, every_weeks)
    rows = history.rows(horizon_labels(history.customers, horizon_days, data_end, lead_days))
    types = feature_types(rows)
    return _evaluate(history, rows, types, horizon_days, lead_days, model_name, comparisons)


# ---------------------------------------------------------------- fit, save, load


@dataclass
class ChurnRiskModel:
    """A fitted churn-risk model as saved: both models, their inputs, and how they scored."""

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


def _version(rows: pd.DataFrame, data_end: date, horizon: int, lead: int, model_name: str) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    digest.update(f"{horizon}:{lead}:{model_name}".encode())
    return f"churn-{data_end:%Y%m%d}-h{horizon}-l{lead}-{digest.hexdigest()[:10]}"


def fit_and_save(
    session: Session,
    store: EventStore,
    data_dir: Path,
    data_end: date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    model_name: str = DEFAULT_HISTORY_MODEL,
    metrics: Sequence[str] | None = None,
    every_weeks: int = 1,
    lead_days: int = DEFAULT_LEAD_DAYS,
) -> ChurnRiskModel:
    """Backtest, then fit on every known outcome up to ``data_end`` and save under data_dir."""
    import joblib

    history = load_history(session, store, data_end, metrics, every_weeks)
    rows = history.rows(horizon_labels(history.customers, horizon_days, data_end, lead_days))
    types = feature_types(rows)
    try:
        evaluation: dict[str, Any] = _evaluate(
            history, rows, types, horizon_days, lead_days, model_name
        ).as_dict()
    except InvalidInput as error:
        # Too little history to backtest is no reason to refuse a model; the version says so.
        evaluation = {"error": error.message}
    learned = rows[~lost_within(rows, lead_days)]
    if learned["churned"].nunique() < 2:
        raise InvalidInput(
            f"no churn (or no renewal) {lead_days}–{horizon_days} days ahead in the history up "
            f"to {data_end}: nothing to learn from"
        )
    model = make_model(model_name, types).fit(learned, learned["churned"].to_numpy())
    renewal_rows = history.rows(renewal_labels(history.customers, data_end, RENEWAL_WITHIN_DAYS))
    renewal_model = None
    evaluation["renewal"] = _renewal_backtest(renewal_rows, types, model_name)
    if renewal_rows["churned"].nunique() == 2:
        renewal_model = make_model(model_name, types).fit(
            renewal_rows, renewal_rows["churned"].to_numpy()
        )
    fitted = ChurnRiskModel(
        version=_version(rows, data_end, horizon_days, lead_days, model_name),
        data_end=data_end,
        horizon_days=horizon_days,
        metrics=list(metrics) if metrics is not None else None,
        column_types=types,
        model=model,
        renewal_model=renewal_model,
        evaluation=evaluation,
        trained_rows=len(learned),
        lead_days=lead_days,
    )
    folder = models_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(fitted, folder / f"{fitted.version}.joblib")
    summary = {
        "version": fitted.version,
        "model": model_name,
        "data_end": data_end.isoformat(),
        "horizon_days": horizon_days,
        "lead_days": lead_days,
        "trained_rows": fitted.trained_rows,
        "renewal_rows": len(renewal_rows),
        "saved_at": datetime.now(UTC).isoformat(),
        "evaluation": fitted.evaluation,
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


# ---------------------------------------------------------------- score and store


def score_frame(fitted: ChurnRiskModel, current: pd.DataFrame) -> pd.DataFrame:
    """Probabilities, renewal probabilities, alert flags and reasons for current customers."""
    missing = [name for name in fitted.column_types.features if name not in current]
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise InvalidInput(
            f"model {fitted.version} was fitted on features that are not computed any more "
            f"({shown}); refit it with `tenure model fit`"
        )
    probability = fitted.model.predict_proba(current)
    renewal = np.full(len(current), np.nan)
    next_renewal = pd.to_datetime(current["next_renewal_on"])
    due = (
        next_renewal
        <= pd.to_datetime(current["observed_on"]) + pd.Timedelta(days=RENEWAL_WITHIN_DAYS)
    ).to_numpy()
    if fitted.renewal_model is not None and due.any():
        renewal[due] = fitted.renewal_model.predict_proba(current[due])
    reasons = top_reasons(fitted.model.contributions(current), current)
    arr = current["arr"].astype(float) if "arr" in current else pd.Series(np.nan, current.index)
    return pd.DataFrame(
        {
            "account_id": current["account_id"].to_numpy(),
            "probability": probability,
            "renewal_probability": renewal,
            "next_renewal_on": current["next_renewal_on"].to_numpy(),
            "arr_at_risk": (arr.to_numpy() * renewal),
            "currency": current["arr_currency"].to_numpy() if "arr_currency" in current else None,
            "in_alert_set": alert_set(probability),
            "reasons": [[r.as_dict() for r in row] for row in reasons],
        }
    )


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def score_accounts(session: Session, store: EventStore, data_dir: Path, as_of: date) -> ScoreRun:
    """Score every account that is a customer on ``as_of``; store (replacing that day's scores)."""
    fitted = load_model(data_dir)
    customers = customers_on(contract_terms(session), [as_of])
    if customers.empty:
        raise InvalidInput(f"no account has a contract in force on {as_of}; nothing to score")
    from tenure.metrics.snapshot import load_snapshot

    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        # ARR and its currency are always read: ARR at risk needs them even when the model
        # learned from other metrics.
        wanted = None if fitted.metrics is None else [*fitted.metrics, *ARR_METRICS]
        days = [change_reference(as_of), as_of]
        features = with_changes(metric_features(con, store.table(con), snapshot, days, wanted))
    finally:
        con.disconnect()
    current = observation_dataset(customers, features)
    scored = score_frame(fitted, current)
    session.execute(
        sa.delete(ChurnRiskScore).where(
            ChurnRiskScore.as_of == as_of, ChurnRiskScore.model_version == fitted.version
        )
    )
    records = [
        {
            "account_id": int(row["account_id"]),
            "as_of": as_of,
            "model_version": fitted.version,
            "probability": float(row["probability"]),
            "horizon_days": fitted.horizon_days,
            "lead_days": fitted.lead_days,
            "renewal_probability": _none(row["renewal_probability"]),
            "next_renewal_on": row["next_renewal_on"],
            "arr_at_risk": _none(row["arr_at_risk"]),
            "currency": _none(row["currency"]),
            "in_alert_set": bool(row["in_alert_set"]),
            "reasons": row["reasons"],
        }
        for row in scored.to_dict("records")
    ]
    session.add_all(ChurnRiskScore(**record) for record in records)
    session.flush()
    return ScoreRun(
        as_of=as_of,
        model_version=fitted.version,
        accounts=len(records),
        alerts=int(scored["in_alert_set"].sum()),
        scores=stored_scores(session, as_of, fitted.version),
    )


def stored_scores(session: Session, as_of: date, model_version: str) -> list[ChurnRiskRead]:
    """The stored scores of one day and model, riskiest first."""
    rows = session.execute(
        sa.select(ChurnRiskScore, Account.external_id, Account.name)
        .join(Account, Account.id == ChurnRiskScore.account_id)
        .where(ChurnRiskScore.as_of == as_of, ChurnRiskScore.model_version == model_version)
        .order_by(
            churn_probability_sql(
                ChurnRiskScore.probability, ChurnRiskScore.renewal_probability
            ).desc(),
            Account.id,
        )
    )
    return [
        ChurnRiskRead(
            account_id=score.account_id,
            account_external_id=external_id,
            account_name=name,
            as_of=score.as_of,
            model_version=score.model_version,
            probability=score.probability,
            horizon_days=score.horizon_days,
            lead_days=score.lead_days,
            renewal_probability=score.renewal_probability,
            next_renewal_on=score.next_renewal_on,
            arr_at_risk=score.arr_at_risk,
            currency=score.currency,
            in_alert_set=score.in_alert_set,
            reasons=score.reasons,
        )
        for score, external_id, name in rows
    ]
