"""`tenure health compare v1 v2`: backtest two stored scorecard versions on the account history.

Loads what :mod:`tenure.health.compare` needs — every customer on every Monday once it has the
churn model's warm-up of history, the metrics both versions read as known on each of those days
(:func:`tenure.risk.history.load_history`, the churn model's own history loader), the account
columns and LAER stage profiles may match on, and the renewals churners were lost at — then
scores both versions on every row. Nothing is stored: a backtest reads history, it does not
rewrite it.

    compare_versions(session, store, data_dir, "1", "2")   # → ScorecardComparison
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import NotFound
from tenure.health.compare import BUDGETS, compare_cards
from tenure.health.schemas import AlertFigures, ScorecardComparison
from tenure.health.scorecard import Scorecard
from tenure.health.versions import card_of, get_version, scorecard_in_force
from tenure.metrics.registry import all_metrics
from tenure.model import Account, LifecycleStage, User
from tenure.model import ScorecardComparison as StoredComparison
from tenure.model.base import utcnow
from tenure.risk.datasets import (
    customers_on,
    metric_features,
    observation_dataset,
    weekly_dates,
)
from tenure.risk.evaluation import LEAD_DAYS
from tenure.risk.history import contract_terms, latest_data_day, observable_from
from tenure.store.events import EventStore


def metrics_read(cards: Sequence[Scorecard]) -> list[str]:
    """The registered metrics the cards measure or match profiles on."""
    known = {m.slug for m in all_metrics()}
    slugs = {
        slug
        for card in cards
        for profile in card.profiles
        for slug in [*(m.metric for m in profile.measures), *profile.match]
        if slug in known
    }
    return sorted(slugs)


def _with_account_columns(session: Session, rows: pd.DataFrame) -> pd.DataFrame:
    """Add segment, experience_segment and the LAER stage in effect on each row's date."""
    accounts = pd.DataFrame(
        session.execute(sa.select(Account.id, Account.segment, Account.experience_segment)).all(),
        columns=["account_id", "segment", "experience_segment"],
    )
    rows = rows.merge(accounts, on="account_id", how="left")
    stages = pd.DataFrame(
        session.execute(
            sa.select(LifecycleStage.account_id, LifecycleStage.effective_on, LifecycleStage.stage)
        ).all(),
        columns=["account_id", "effective_on", "lifecycle_stage"],
    )
    if stages.empty:
        return rows.assign(lifecycle_stage=None)
    rows = rows.assign(_on=pd.to_datetime(rows["observed_on"])).sort_values("_on")
    stages = stages.assign(_on=pd.to_datetime(stages["effective_on"])).sort_values("_on")
    merged = pd.merge_asof(
        rows, stages[["account_id", "_on", "lifecycle_stage"]], on="_on", by="account_id"
    )
    return merged.drop(columns="_on").astype({"lifecycle_stage": object})


def _verdict(comparison: ScorecardComparison) -> str:
    base, candidate = comparison.base, comparison.candidate
    budget_line = next((i for i, a in enumerate(base.alerts) if a.budget == 0.10), 0)
    b, c = base.alerts[budget_line], candidate.alerts[budget_line]
    if not b.churners:
        return (
            f"No churner can be judged yet: none was lost at least {comparison.lead_days} days "
            "after the first scored week. More history is needed."
        )
    head = comparison.head_to_head[budget_line]

    def flagged(a: AlertFigures) -> str:
        return f"{a.flagged_ahead} of {a.churners} churners"

    lead = (
        f"Version {candidate.version} flags {flagged(c)} {comparison.lead_days} days ahead "
        f"at the {b.alert.removeprefix('lowest ')} alert budget; version {base.version} flags "
        f"{flagged(b)}."
    )
    race = (
        f" Churner by churner, version {candidate.version} raised the alarm earlier for "
        f"{head.earlier_candidate}, version {base.version} for {head.earlier_base}, both on the "
        f"same day for {head.same_day}; neither caught {head.neither}."
    )
    return lead + race


@dataclass(frozen=True)
class BacktestHistory:
    """Every Monday customers were observable on, the Mondays that matter to some churner (those
    scored), the rows of those Mondays and the renewals churners were lost at."""

    weeks: list[date]
    scored: list[date]
    accounts: int
    rows: pd.DataFrame
    renewals: pd.DataFrame


def backtest_history(
    session: Session, store: EventStore, data_end: date, metrics: Sequence[str]
) -> BacktestHistory:
    """Customers on each Monday after the churn model's warm-up (the same observation rules as
    :func:`tenure.risk.history.load_history`), with ``metrics`` as known on that Monday — computed
    only for the Mondays within the 365 days before some lost renewal: an alert on any other day
    cannot count for or against either version, and metrics over history are the slow part."""
    terms = contract_terms(session)
    if not terms:
        raise NotFound("no contracts: a backtest needs contract outcomes; import them first")
    first_event = store.stats().first
    observable = observable_from(terms, first_event.date() if first_event else None)
    weeks = weekly_dates(min(observable), data_end)
    customers = customers_on(terms, weeks)
    customers = customers[
        pd.to_datetime(customers["observed_on"])
        >= pd.to_datetime(customers["account_id"].map(observable))
    ]
    if customers.empty:
        raise NotFound(f"no customer was observable on any Monday up to {data_end}")
    accounts = int(customers["account_id"].nunique())
    lost = [
        (t.account_id, t.churned_on) for t in terms if t.churned_on and t.churned_on <= data_end
    ]
    renewals = pd.DataFrame(lost, columns=["account_id", "renewal_on"])
    windows = [(on - timedelta(days=365), on) for _, on in lost]
    scored = [day for day in weeks if any(start <= day < end for start, end in windows)]
    customers = customers[customers["observed_on"].isin(scored)]
    rows = customers[["account_id", "observed_on"]].reset_index(drop=True)
    if scored and not customers.empty:
        from tenure.metrics.incremental import daily_activity_table
        from tenure.metrics.snapshot import load_snapshot

        con = store.connect()
        try:
            snapshot = load_snapshot(session, con)
            daily = daily_activity_table(con, store, snapshot, min(scored), max(scored))
            features = metric_features(con, daily, snapshot, scored, metrics)
        finally:
            con.disconnect()
        rows = observation_dataset(rows, features)
    return BacktestHistory(
        weeks=weeks,
        scored=scored,
        accounts=accounts,
        rows=rows,
        renewals=renewals,
    )


def compare_versions(
    session: Session,
    store: EventStore,
    data_dir: Path,
    base_reference: str,
    candidate_reference: str,
    actor: Actor | None = None,
    budgets: Sequence[float] = BUDGETS,
) -> ScorecardComparison:
    """Backtest two stored versions (``"2"`` or ``"name@2"``) on the weekly history, and keep the
    result as the pair's latest comparison (:func:`stored_comparison`)."""
    scorecard_in_force(session, data_dir)
    base_row = get_version(session, base_reference)
    candidate_row = get_version(session, candidate_reference)
    base, candidate = card_of(base_row), card_of(candidate_row)
    data_end = latest_data_day(store)
    history = backtest_history(session, store, data_end, metrics_read([base, candidate]))
    rows = _with_account_columns(session, history.rows)
    base_test, candidate_test, head_to_head = compare_cards(
        (f"{base_row.scorecard}@{base_row.version}", base),
        (f"{candidate_row.scorecard}@{candidate_row.version}", candidate),
        rows,
        history.renewals,
        budgets,
    )
    comparison = ScorecardComparison(
        base=base_test,
        candidate=candidate_test,
        head_to_head=head_to_head,
        first_day=history.weeks[0],
        last_day=history.weeks[-1],
        weeks=len(history.weeks),
        scored_weeks=len(history.scored),
        accounts=history.accounts,
        churners_lost=len(history.renewals),
        lead_days=LEAD_DAYS,
        data_end=data_end,
        verdict="",
    )
    comparison = comparison.model_copy(update={"verdict": _verdict(comparison)})
    _keep(session, base_row.id, candidate_row.id, comparison, actor)
    return stored_comparison(session, base_row.id, candidate_row.id) or comparison


def _keep(
    session: Session,
    base_id: int,
    candidate_id: int,
    comparison: ScorecardComparison,
    actor: Actor | None,
) -> None:
    row = session.scalar(
        sa.select(StoredComparison).where(
            StoredComparison.base_id == base_id, StoredComparison.candidate_id == candidate_id
        )
    )
    if row is None:
        row = StoredComparison(base_id=base_id, candidate_id=candidate_id)
        session.add(row)
    row.data_end = comparison.data_end
    row.result = comparison.model_dump(mode="json", exclude={"run_at", "run_by"})
    row.run_at = utcnow()
    row.run_by_id = actor.id if actor else None
    session.flush()


def stored_comparison(
    session: Session, base_id: int, candidate_id: int
) -> ScorecardComparison | None:
    """The pair's latest backtest, with when and by whom it ran (None: never run)."""
    row = session.scalar(
        sa.select(StoredComparison).where(
            StoredComparison.base_id == base_id, StoredComparison.candidate_id == candidate_id
        )
    )
    if row is None:
        return None
    who = None if row.run_by_id is None else session.get(User, row.run_by_id)
    return ScorecardComparison.model_validate(
        {**row.result, "run_at": row.run_at, "run_by": who.name or who.email if who else None}
    )
