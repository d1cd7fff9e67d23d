"""Compute the registered metrics: (events, snapshot, as_of) → one wide table, one row per account.

Pure in the style guide's sense: no session, no files, no clock — ``as_of`` is an argument and the
result is an Ibis expression on the connection the inputs live on (DuckDB in-memory by default,
PostgreSQL unchanged). Raw events never leave the backend: they are read once into a per-(account,
user, day, event) roll-up, kept as a temporary table on the same connection, and every metric is an
aggregation of that roll-up or of the snapshot.

    con = store.connect()
    snapshot = load_snapshot(session, con)
    table = compute_metrics(con, store.table(con), snapshot, date(2025, 3, 31))
    frame = table.to_pandas()

Columns: ``account_id``, ``account_external_id``, ``account_name``, ``segment``,
``experience_segment``, then one column per metric slug (see :mod:`tenure.metrics.registry`),
the per-feature metrics of the catalog last (:mod:`tenure.metrics.by_feature`).
Accounts created after ``as_of`` (``created_on > as_of``) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import ibis

from tenure.dates import end_of
from tenure.metrics.by_feature import catalog_of, metrics_with_catalog
from tenure.metrics.inputs import DETAIL_DAYS, MetricInputs
from tenure.metrics.registry import Family, Metric
from tenure.metrics.snapshot import Snapshot

ACCOUNT_COLUMNS = (
    "account_id",
    "account_external_id",
    "account_name",
    "segment",
    "experience_segment",
)


def attributed_to_accounts(rows: ibis.Table, snapshot: Snapshot) -> ibis.Table:
    """``rows`` (raw ``account_id``/``user_id`` keys) with ``owner``: their internal account id.

    An event's own ``account_id`` (its groupId) names the account whose external id it is, else
    the account it is another id of (a product workspace id: ``snapshot.account_keys``, see
    :mod:`tenure.accounts.group_ids`); otherwise its ``user_id`` is looked up among contact
    external ids. Rows that match none get a null ``owner``.
    """
    accounts = snapshot.accounts.select(
        by_account=snapshot.accounts.id, external=snapshot.accounts.external_id
    )
    keys = snapshot.account_keys.select(
        by_key=snapshot.account_keys.account_id, other=snapshot.account_keys.key
    )
    contacts = snapshot.contacts.filter(lambda c: c.account_id.notnull())
    by_contact = contacts.select(contact_user=contacts.external_id, by_contact=contacts.account_id)
    joined = (
        rows.left_join(accounts, rows.account_id == accounts.external)
        .left_join(keys, rows.account_id == keys.other)
        .left_join(by_contact, rows.user_id == by_contact.contact_user)
    )
    owner = joined.by_account.fill_null(joined.by_key).fill_null(joined.by_contact)
    return joined.mutate(owner=owner)


def attributed_activity(events: ibis.Table, snapshot: Snapshot, as_of: date) -> ibis.Table:
    """Events before the cutoff, attributed to internal account ids, rolled up per user-day-event.

    Unattributable events are dropped (see :func:`attributed_to_accounts`). Days older than
    ``DETAIL_DAYS`` keep one row per account-day-event with ``user_id`` null.
    """
    known = events.filter(events.timestamp < end_of(as_of)).select(
        "account_id", "user_id", "event", "timestamp"
    )
    joined = attributed_to_accounts(known, snapshot)
    # Beyond the longest window only the day and the event matter (days since last activity,
    # lifetime totals per feature): collapsing users there keeps the roll-up small however
    # long the history is.
    detailed = joined.timestamp >= end_of(as_of) - timedelta(days=DETAIL_DAYS)
    attributed = joined.select(
        account_id=joined.owner,
        user_id=ibis.ifelse(detailed, joined.user_id, ibis.null("string")),
        event=joined.event,
        day=joined.timestamp.date(),
    ).filter(lambda t: t.account_id.notnull())
    return attributed.group_by("account_id", "user_id", "day", "event").aggregate(
        events=attributed.count()
    )


def daily_activity(
    events: ibis.Table,
    snapshot: Snapshot,
    until: date,
    detail_from: date | None = None,
    since: date | None = None,
) -> ibis.Table:
    """Every attributed event up to the end of ``until`` per (account, user, day, event): what
    the activity of any as-of day up to ``until`` is cut from (``activity_as_of``).

    Full detail, or from ``detail_from`` on: before it the user is null, which is all an
    as-of day whose detail window starts there needs (see :func:`attributed_activity`).
    From ``since`` on only, when nothing asked reads further back (trailing windows).
    """
    window = events.timestamp < end_of(until)
    if since is not None:
        window &= events.timestamp >= end_of(since - timedelta(days=1))
    known = events.filter(window).select("account_id", "user_id", "event", "timestamp")
    joined = attributed_to_accounts(known, snapshot)
    day = joined.timestamp.date()
    detailed = (
        ibis.literal(True) if detail_from is None else day >= ibis.literal(detail_from, type="date")
    )
    attributed = joined.select(
        account_id=joined.owner,
        user_id=ibis.ifelse(detailed, joined.user_id, ibis.null("string")),
        event=joined.event,
        day=day,
    ).filter(lambda t: t.account_id.notnull())
    return attributed.group_by("account_id", "user_id", "day", "event").aggregate(
        events=attributed.count()
    )


def activity_as_of(daily: ibis.Table, as_of: date | ibis.DateValue) -> ibis.Table:
    """The activity table of ``as_of`` (as :func:`attributed_activity` builds it) from attributed
    per-day rows ``(account_id, user_id, day, event, events)``: the days up to ``as_of``, the
    user kept for the trailing ``DETAIL_DAYS`` days only. ``as_of`` may be a date value of the
    query (see :mod:`tenure.metrics.over_dates`)."""
    day = _date_value(as_of)
    known = daily.filter(daily.day <= day)
    detailed = known.day >= day - timedelta(days=DETAIL_DAYS - 1)
    rows = known.select(
        account_id=known.account_id,
        user_id=ibis.ifelse(detailed, known.user_id, ibis.null("string")),
        event=known.event,
        day=known.day,
        events=known.events,
    )
    return rows.group_by("account_id", "user_id", "day", "event").aggregate(
        events=rows.events.sum()
    )


def account_spine(snapshot: Snapshot, as_of: date | ibis.DateValue) -> ibis.Table:
    accounts = snapshot.accounts
    known = accounts.filter(
        accounts.created_on.isnull() | (accounts.created_on <= _date_value(as_of))
    )
    return known.select(*spine_columns(known))


def _date_value(day: date | ibis.DateValue) -> ibis.DateValue:
    return day if isinstance(day, ibis.Value) else ibis.literal(day, type="date")


def spine_columns(accounts: ibis.Table) -> list[ibis.Value]:
    """The account columns every metric table starts with (``ACCOUNT_COLUMNS``)."""
    return [
        accounts.id.name("account_id"),
        accounts.external_id.name("account_external_id"),
        accounts.name.name("account_name"),
        accounts.segment,
        accounts.experience_segment,
    ]


def compute_metrics(
    con: ibis.BaseBackend,
    events: ibis.Table,
    snapshot: Snapshot,
    as_of: date,
    metrics: Sequence[Metric] | None = None,
) -> ibis.Table:
    """Every metric (or the given ones) for every account known on ``as_of``, as one wide table.

    The activity roll-up is materialised as a temporary table on ``con`` so the metrics that read
    it do not each re-scan the events.
    """
    return metrics_from_activity(
        con, attributed_activity(events, snapshot, as_of), snapshot, as_of, metrics
    )


def metrics_from_activity(
    con: ibis.BaseBackend,
    activity: ibis.Table,
    snapshot: Snapshot,
    as_of: date,
    metrics: Sequence[Metric] | None = None,
) -> ibis.Table:
    """:func:`compute_metrics` on an activity roll-up already built (see ``metrics/rollup.py``)."""
    chosen = list(metrics) if metrics is not None else default_metrics(snapshot)
    # One table per day: expressions for several days can be built before any is executed.
    activity = con.create_table(activity_table_name(as_of), activity, temp=True, overwrite=True)
    inputs = MetricInputs(as_of=as_of, snapshot=snapshot, activity=activity)
    return with_metrics(account_spine(snapshot, as_of), chosen, inputs).order_by("account_id")


def default_metrics(snapshot: Snapshot) -> list[Metric]:
    """What is computed when no metric is named: the registry and the per-feature metrics of
    the snapshot's catalog (:mod:`tenure.metrics.by_feature`)."""
    return metrics_with_catalog(catalog_of(snapshot.features))


def activity_table_name(as_of: date) -> str:
    """The temporary table :func:`metrics_from_activity` keeps ``as_of``'s activity in."""
    return f"tenure_metric_activity_{as_of:%Y%m%d}"


def with_metrics(spine: ibis.Table, metrics: Sequence[Metric], inputs: MetricInputs) -> ibis.Table:
    """``spine`` plus one column per metric, joined on ``inputs.keys``; missing values get the
    metric's default."""
    joined = spine
    columns = [spine[c] for c in spine.columns]
    families: dict[Family, ibis.Table] = {}
    for metric in metrics:
        family = metric.family
        if family is not None and family in families:
            values = families[family]  # the family's query is joined already
        else:
            values = metric.expression(inputs) if family is None else family.build(inputs)
            if family is not None:
                families[family] = values
            joined = joined.left_join(values, [spine[key] == values[key] for key in inputs.keys])
        value = values[metric.slug]
        columns.append(
            value if metric.default is None else value.fill_null(metric.default).name(metric.slug)
        )
    return joined.select(*columns)
