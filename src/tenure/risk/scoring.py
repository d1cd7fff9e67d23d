"""Score every current customer with the saved churn model and store it (I/O): probabilities,
renewal probabilities, ARR at risk, the alert set per billing group and each account's reasons,
the catalog's features named in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.metrics.by_feature import catalog_of, feature_metrics
from tenure.metrics.incremental import daily_activity_table
from tenure.model import JUDGEMENTS_CHANGED, Account, ChurnRiskScore
from tenure.risk.datasets import (
    change_reference,
    customers_on,
    metric_features,
    observation_dataset,
    with_changes,
)
from tenure.risk.evaluation import alert_set, booked_as_decided
from tenure.risk.figures import churn_probability_sql
from tenure.risk.history import contract_terms
from tenure.risk.reasons import top_reasons
from tenure.risk.schemas import ChurnRiskRead, ScoreRun
from tenure.risk.service import (
    ARR_METRICS,
    RENEWAL_WITHIN_DAYS,
    ChurnRiskModel,
    load_model,
)
from tenure.store.events import EventStore


def score_frame(
    fitted: ChurnRiskModel, current: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Probabilities, renewal probabilities, alert flags and reasons for current customers
    (``labels``: the catalog features' metrics in words, for the reasons)."""
    missing = [name for name in fitted.column_types.features if name not in current]
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise InvalidInput(
            f"model {fitted.version} was fitted on features that are not computed any more "
            f"({shown}); refit it with `tenure model fit`"
        )
    # A booked renewal is decided: 0, out of the alert set (as in the backtest).
    probability = booked_as_decided(current, fitted.model.predict_proba(current))
    renewal = np.full(len(current), np.nan)
    next_renewal = pd.to_datetime(current["next_renewal_on"])
    due = (
        next_renewal
        <= pd.to_datetime(current["observed_on"]) + pd.Timedelta(days=RENEWAL_WITHIN_DAYS)
    ).to_numpy()
    if fitted.renewal_model is not None and due.any():
        renewal[due] = booked_as_decided(
            current[due], fitted.renewal_model.predict_proba(current[due])
        )
    reasons = top_reasons(fitted.model.contributions(current), current, labels=labels)
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


def _by_billing_group(
    fitted: ChurnRiskModel, current: pd.DataFrame
) -> list[tuple[ChurnRiskModel, pd.DataFrame]]:
    """Each billing group's model with the customers it scores (the alert set is per group:
    its probabilities are of its own window)."""
    others = fitted.groups()[1:]
    covered: set[int] = set()
    pairs = []
    for group in others:
        accounts = group.accounts or frozenset()
        covered |= accounts
        rows = current[current["account_id"].isin(accounts)]
        if len(rows):
            pairs.append((group, rows))
    rest = current[~current["account_id"].isin(covered)]
    if len(rest):
        pairs.insert(0, (fitted, rest))
    return pairs


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
        daily = daily_activity_table(con, store, snapshot, days[0], days[-1])
        features = with_changes(metric_features(con, daily, snapshot, days, wanted))
        labels = {m.slug: m.name for m in feature_metrics(catalog_of(snapshot.features))}
    finally:
        con.disconnect()
    current = observation_dataset(customers, features)
    session.execute(
        sa.delete(ChurnRiskScore).where(
            ChurnRiskScore.as_of == as_of, ChurnRiskScore.model_version == fitted.version
        )
    )
    records = []
    alerts = 0
    for group, rows in _by_billing_group(fitted, current):
        scored = score_frame(group, rows, labels)
        alerts += int(scored["in_alert_set"].sum())
        records += [
            {
                "account_id": int(row["account_id"]),
                "as_of": as_of,
                "model_version": fitted.version,
                "probability": float(row["probability"]),
                "horizon_days": group.horizon_days,
                "lead_days": group.lead_days,
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
    session.execute(JUDGEMENTS_CHANGED)
    session.flush()
    return ScoreRun(
        as_of=as_of,
        model_version=fitted.version,
        accounts=len(records),
        alerts=alerts,
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
