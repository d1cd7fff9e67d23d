"""Account history for churn models (I/O): contract terms, the weekly customers on each
observation date once they have their warm-up, and the metrics known on each of those dates —
read through the same activity path as the daily run (``metrics/incremental.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.arr import continues
from tenure.accounts.renewal import renewal_on
from tenure.errors import InvalidInput
from tenure.metrics.incremental import daily_activity_table
from tenure.model import Contract
from tenure.model.contract import ContractStatus, RenewalOutcome
from tenure.risk.datasets import (
    ColumnTypes,
    ContractTerm,
    change_reference,
    customers_on,
    infer_column_types,
    metric_features,
    observation_dataset,
    weekly_dates,
    with_changes,
)
from tenure.store.events import EventStore

# An account is observed once this many days of its usage are recorded: the trailing window most
# usage metrics read. Per account, not one global cut: a global cut after the first event left a
# short history with one training date (issue 21), while each new customer still gets its month.
WARMUP_DAYS = 28

LABEL_COLUMNS = ("account_id", "observed_on", "next_renewal_on", "churned_on", "churned")


def contract_terms(session: Session) -> list[ContractTerm]:
    """Every signed contract term; a term that was not renewed or was cancelled marks a loss."""
    rows = session.scalars(sa.select(Contract).where(Contract.status != ContractStatus.pending))
    terms = []
    for row in rows:
        churned_on = None
        if row.status == ContractStatus.cancelled:
            # Cancelled early: lost on the cancellation date. A cancellation taking effect when
            # the term is over (billing systems stamp the day after its last day) is a loss at
            # the renewal, like a term not renewed.
            churned_on = min(row.outcome_on or row.ends_on, row.ends_on)
        elif row.renewal_outcome == RenewalOutcome.churned:
            # Not renewed: lost at the renewal date, the date CS teams work towards.
            churned_on = row.ends_on
        terms.append(
            ContractTerm(
                row.account_id,
                row.starts_on,
                row.ends_on,
                churned_on,
                billing_period=str(row.billing_period),
                continues=continues(row),
                renewal_on=renewal_on(row),
            )
        )
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
    terms: list[ContractTerm] = field(default_factory=list)

    def rows(self, labels: pd.DataFrame) -> pd.DataFrame:
        return observation_dataset(labels, self.features)

    def with_columns(self, columns: Sequence[str] | None) -> History:
        """The same history with only these feature columns (None = all of them)."""
        if columns is None:
            return self
        chosen = list(columns)
        return replace(self, features={day: f[chosen] for day, f in self.features.items()})

    def of(self, accounts: frozenset[int] | None) -> History:
        """The same history restricted to some accounts (a billing group); None = all."""
        if accounts is None:
            return self
        return replace(
            self,
            customers=self.customers[self.customers["account_id"].isin(accounts)],
            churn_renewals=self.churn_renewals[self.churn_renewals["account_id"].isin(accounts)],
            terms=[t for t in self.terms if t.account_id in accounts],
        )


def observable_from(terms: Sequence[ContractTerm], first_event: date | None) -> pd.Series:
    """The first day each account is observed: its first term's start (or the first recorded
    event, when usage was recorded later) plus the warm-up.

    Before usage was recorded every usage metric reads zero: such rows would teach the model
    that silence is normal.
    """
    starts: dict[int, date] = {}
    for term in terms:
        starts[term.account_id] = min(starts.get(term.account_id, term.starts_on), term.starts_on)
    recorded = {a: max(day, first_event) if first_event else day for a, day in starts.items()}
    return pd.Series(
        {a: day + timedelta(days=WARMUP_DAYS) for a, day in recorded.items()}, dtype=object
    )


def load_history(
    session: Session,
    store: EventStore,
    data_end: date,
    metrics: Sequence[str] | None = None,
    every_weeks: int = 1,
) -> History:
    """Customers on every ``every_weeks``-th Monday up to ``data_end`` once they have
    ``WARMUP_DAYS`` of history, with the metrics (all, or the named ones) known on each of those
    days and on the days their changes compare with."""
    terms = contract_terms(session)
    if not terms:
        raise InvalidInput("no contracts: churn is learned from contract outcomes; import them")
    first_event = store.stats().first
    observable = observable_from(terms, first_event.date() if first_event else None)
    dates = weekly_dates(min(observable), data_end)[::every_weeks]
    customers = customers_on(terms, dates)
    customers = customers[
        pd.to_datetime(customers["observed_on"])
        >= pd.to_datetime(customers["account_id"].map(observable))
    ].reset_index(drop=True)
    if customers.empty:
        raise InvalidInput(
            f"no customers with {WARMUP_DAYS} days of history on any Monday up to {data_end}"
        )
    from tenure.metrics.snapshot import load_snapshot

    con = store.connect()
    try:
        snapshot = load_snapshot(session, con)
        observed = set(customers["observed_on"].unique())
        # A cadence that is not a divisor of the change window needs the reference days too.
        references = {change_reference(day) for day in observed}
        needed = sorted(observed | {day for day in references if day >= min(observed)})
        daily = daily_activity_table(con, store, snapshot, needed[0], needed[-1])
        features = with_changes(metric_features(con, daily, snapshot, needed, metrics))
    finally:
        con.disconnect()
    # The renewal at which each churner was lost: the date the lead time counts back from.
    lost = [
        (t.account_id, t.churned_on) for t in terms if t.churned_on and t.churned_on <= data_end
    ]
    renewals = pd.DataFrame(lost, columns=["account_id", "renewal_on"])
    return History(data_end, customers, features, renewals, terms)


def feature_types(rows: pd.DataFrame) -> ColumnTypes:
    """The observation rows' feature columns; usage by feature is marked as detail."""
    from tenure.metrics.by_feature import is_feature_metric

    _, types = infer_column_types(rows.drop(columns=list(LABEL_COLUMNS)), drop_identifiers=False)
    return replace(types, detail=tuple(c for c in types.numeric if is_feature_metric(c)))
