"""`tenure health compare v1 v2`: backtest two stored scorecard versions on the account history.

Loads what :mod:`tenure.health.compare` needs — every customer on every Monday once it has the
churn model's warm-up of history, the metrics both versions read as known on each of those days
(:func:`tenure.risk.history.load_history`, the churn model's own history loader), the account
columns and LAER stage profiles may match on, and the renewals churners were lost at — then
scores both versions on every row. Only the result is stored: a backtest reads history, it does
not rewrite it.

    compare_versions(session, store, data_dir, "1", "2")   # → ScorecardComparison

A backtest costs minutes of CPU on a large book (half a minute on the demo), so the console never
runs one inside a request: :func:`request_backtest` records the ask (``scorecard_backtest``),
:func:`start_backtest` runs it in a background process — one at a time per data folder — and the
page shows its state until the result is there. The CLI (``tenure health compare``) waits for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor
from tenure.config import Settings
from tenure.dates import utc
from tenure.errors import InvalidInput, NotFound, TenureError
from tenure.health.compare import BUDGETS, compare_cards
from tenure.health.schemas import AlertFigures, BacktestRun, ScorecardComparison
from tenure.health.scorecard import Scorecard
from tenure.health.versions import card_of, get_version, scorecard_in_force
from tenure.jobs.background import exclusive, start_child
from tenure.metrics.registry import all_metrics
from tenure.model import Account, BacktestStatus, LifecycleStage, ScorecardBacktest, User
from tenure.model import ScorecardComparison as StoredComparison
from tenure.model.base import utcnow
from tenure.model.scorecard_version import ScorecardVersion
from tenure.risk.datasets import (
    customers_on,
    metric_features,
    observation_dataset,
    weekly_dates,
)
from tenure.risk.evaluation import LEAD_DAYS
from tenure.risk.history import contract_terms, latest_data_day, observable_from
from tenure.store.events import EventStore

log = logging.getLogger(__name__)
BACKTEST_LOCK = "backtest.lock"
# A backtest still queued or running this long after it was asked for died with its process.
ABANDONED_AFTER = timedelta(hours=1)


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
    return _compare(session, store, base_row, candidate_row, actor.id if actor else None, budgets)


def _compare(
    session: Session,
    store: EventStore,
    base_row: ScorecardVersion,
    candidate_row: ScorecardVersion,
    run_by_id: int | None,
    budgets: Sequence[float] = BUDGETS,
) -> ScorecardComparison:
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
    _keep(session, base_row.id, candidate_row.id, comparison, run_by_id)
    return stored_comparison(session, base_row.id, candidate_row.id) or comparison


def _keep(
    session: Session,
    base_id: int,
    candidate_id: int,
    comparison: ScorecardComparison,
    run_by_id: int | None,
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
    row.run_by_id = run_by_id
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


# --- backtests asked for from the console: recorded, then run in a background process ----------


def _reference(session: Session, version_id: int) -> str:
    row = session.get(ScorecardVersion, version_id)
    return f"{row.scorecard}@{row.version}" if row else "a deleted version"


def _run_read(session: Session, row: ScorecardBacktest, now: datetime | None = None) -> BacktestRun:
    who = None if row.requested_by_id is None else session.get(User, row.requested_by_id)
    status = row.status.value
    pending = row.status in (BacktestStatus.queued, BacktestStatus.running)
    if pending and (now or utcnow()) - utc(row.requested_at) > ABANDONED_AFTER:
        status = "abandoned"
    return BacktestRun(
        id=row.id,
        base=_reference(session, row.base_id),
        candidate=_reference(session, row.candidate_id),
        status=status,
        requested_at=row.requested_at,
        requested_by=(who.name or who.email) if who else None,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
    )


def latest_backtest(session: Session, base_id: int, candidate_id: int) -> BacktestRun | None:
    """The last backtest asked for on this pair, with where it stands (None: never asked)."""
    row = session.scalar(
        sa.select(ScorecardBacktest)
        .where(ScorecardBacktest.base_id == base_id, ScorecardBacktest.candidate_id == candidate_id)
        .order_by(ScorecardBacktest.id.desc())
        .limit(1)
    )
    return None if row is None else _run_read(session, row)


def get_backtest(session: Session, backtest_id: int) -> BacktestRun:
    """One asked-for backtest and where it stands."""
    return _run_read(session, _backtest_row(session, backtest_id))


def backtest_result(session: Session, backtest_id: int) -> ScorecardComparison | None:
    """The pair's comparison once this backtest is done (None before, or when it failed)."""
    row = _backtest_row(session, backtest_id)
    if row.status is not BacktestStatus.done:
        return None
    return stored_comparison(session, row.base_id, row.candidate_id)


def request_backtest(
    session: Session,
    data_dir: Path,
    base_reference: str,
    candidate_reference: str,
    actor: Actor | None,
) -> BacktestRun:
    """Record a backtest of two stored versions to run in the background (:func:`start_backtest`
    once the caller has committed). One already queued or running on the pair is returned
    instead of asking twice."""
    scorecard_in_force(session, data_dir)
    base_row = get_version(session, base_reference)
    candidate_row = get_version(session, candidate_reference)
    if base_row.id == candidate_row.id:
        raise InvalidInput(
            f"version {base_row.version} against itself tells nothing: pick two versions"
        )
    current = latest_backtest(session, base_row.id, candidate_row.id)
    if current is not None and current.status in ("queued", "running"):
        return current
    row = ScorecardBacktest(
        base_id=base_row.id,
        candidate_id=candidate_row.id,
        status=BacktestStatus.queued,
        requested_at=utcnow(),
        requested_by_id=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.backtest",
        "scorecard_backtest",
        row.id,
        after={
            "base": f"{base_row.scorecard}@{base_row.version}",
            "candidate": f"{candidate_row.scorecard}@{candidate_row.version}",
        },
    )
    return _run_read(session, row)


def _backtest_row(session: Session, backtest_id: int) -> ScorecardBacktest:
    row = session.get(ScorecardBacktest, backtest_id)
    if row is None:
        raise NotFound(f"no backtest {backtest_id}")
    return row


def mark_running(session: Session, backtest_id: int) -> None:
    row = _backtest_row(session, backtest_id)
    row.status, row.started_at = BacktestStatus.running, utcnow()
    session.flush()


def run_backtest(session: Session, store: EventStore, backtest_id: int) -> ScorecardComparison:
    """Run a recorded backtest now and mark it done (its result is the pair's comparison)."""
    row = _backtest_row(session, backtest_id)
    base_row = session.get(ScorecardVersion, row.base_id)
    candidate_row = session.get(ScorecardVersion, row.candidate_id)
    if base_row is None or candidate_row is None:
        raise NotFound("one of the two versions was deleted since the backtest was asked for")
    comparison = _compare(session, store, base_row, candidate_row, row.requested_by_id)
    row.status, row.finished_at, row.error = BacktestStatus.done, utcnow(), None
    session.flush()
    return comparison


def mark_failed(session: Session, backtest_id: int, reason: str) -> None:
    row = _backtest_row(session, backtest_id)
    row.status, row.finished_at, row.error = BacktestStatus.failed, utcnow(), reason
    session.flush()


def start_backtest(settings: Settings, backtest_id: int) -> None:
    """Run a recorded (and committed) backtest in a background process."""
    start_child("backtest", _backtest_in_background, settings, backtest_id)


def _backtest_in_background(settings: Settings, backtest_id: int, *, stop: threading.Event) -> None:
    """One backtest at a time per data folder (each takes the CPU for minutes on a large book):
    wait for the lock, then run; a failure is stored in words on the run."""
    from tenure.store.database import create_engine, session_factory, session_scope
    from tenure.store.events import open_event_store

    engine = create_engine(settings.resolved_database_url)
    factory = session_factory(engine)
    try:
        while True:
            with exclusive(settings.data_dir / BACKTEST_LOCK) as held:
                if held:
                    with session_scope(factory) as session:
                        mark_running(session, backtest_id)
                    try:
                        with session_scope(factory) as session:
                            run_backtest(session, open_event_store(settings), backtest_id)
                    except TenureError as error:
                        with session_scope(factory) as session:
                            mark_failed(session, backtest_id, error.message)
                    except Exception:
                        log.exception("backtest %s", backtest_id)
                        with session_scope(factory) as session:
                            mark_failed(
                                session,
                                backtest_id,
                                "it stopped on an unexpected error; the server log has the details",
                            )
                    return
            if stop.wait(2):  # the server stopped while this one waited its turn
                return
    finally:
        engine.dispose()
