"""Usage: who uses the product, how much, how broadly, and whether it is growing.

A *user* is a known ``user_id`` (anonymous events count as events, not as users). Windows are the
trailing N days ending on ``as_of`` (see :mod:`tenure.metrics.inputs`).
"""

from __future__ import annotations

import ibis

from tenure.metrics.commercial import active_contracts
from tenure.metrics.inputs import DETAIL_DAYS, MetricInputs
from tenure.metrics.registry import Build, Unit, metric

MONTH = 28
NEW_FEATURE_DAYS = DETAIL_DAYS


def active_users(inputs: MetricInputs, days: int) -> ibis.Table:
    """Distinct known users per account with an event in the trailing ``days`` days."""
    window = inputs.activity_in(days)
    known = window.filter(window.user_id.notnull())
    return known.group_by(inputs.keys).aggregate(value=known.user_id.nunique())


def _active_users_over(days: int) -> Build:
    def build(inputs: MetricInputs) -> ibis.Table:
        return active_users(inputs, days)

    return build


for _days, _period, _window in (
    (1, "day", "on the as-of day"),
    (7, "week", "in the trailing 7 days"),
    (MONTH, "month", "in the trailing 28 days"),
):
    metric(
        f"active_users_{_days}d",
        f"Active users ({_period})",
        Unit.number,
        default=0,
        description=f"Distinct known users with at least one event {_window}.",
        over_dates=True,
    )(_active_users_over(_days))


@metric(
    "dau_mau",
    "DAU/MAU",
    Unit.share,
    description=(
        "Stickiness: the average daily active users over the trailing 28 days divided by the "
        "users active in those 28 days (user-days ÷ (28 × monthly active users)). 1 means every "
        "monthly user came every day. No data when nobody was active."
    ),
    over_dates=True,
)
def dau_mau(inputs: MetricInputs) -> ibis.Table:
    window = inputs.activity_in(MONTH)
    user_days = (
        window.filter(window.user_id.notnull()).select(*inputs.keys, "user_id", "day").distinct()
    )
    return user_days.group_by(inputs.keys).aggregate(
        value=user_days.count().cast("float64") / (MONTH * user_days.user_id.nunique())
    )


@metric(
    "license_utilization",
    "License utilization",
    Unit.share,
    description=(
        "Users active in the trailing 28 days ÷ licensed seats of the contracts active on the "
        "as-of day. Above 1 when more people use it than pay for it; no data without seats."
    ),
)
def license_utilization(inputs: MetricInputs) -> ibis.Table:
    contracts = active_contracts(inputs)
    seats = contracts.group_by("account_id").aggregate(seats=contracts.licensed_seats.sum())
    seats = seats.filter(seats.seats > 0)
    users = active_users(inputs, MONTH)
    joined = seats.left_join(users, "account_id")
    return joined.select(
        account_id=seats.account_id,
        value=joined.value.fill_null(0).cast("float64") / joined.seats,
    )


@metric(
    "events_per_active_user",
    "Events per active user (month)",
    Unit.number,
    description=(
        "Events by known users in the trailing 28 days ÷ users active in those days. "
        "No data when nobody was active."
    ),
    over_dates=True,
)
def events_per_active_user(inputs: MetricInputs) -> ibis.Table:
    window = inputs.activity_in(MONTH)
    known = window.filter(window.user_id.notnull())
    return known.group_by(inputs.keys).aggregate(
        value=known.events.sum().cast("float64") / known.user_id.nunique()
    )


@metric(
    "events_28d",
    "Events (month)",
    Unit.number,
    default=0,
    description="All attributed events (known and anonymous users) in the trailing 28 days.",
    over_dates=True,
)
def events_28d(inputs: MetricInputs) -> ibis.Table:
    window = inputs.activity_in(MONTH)
    return window.group_by(inputs.keys).aggregate(value=window.events.sum())


def released_features(inputs: MetricInputs, *, strategic_only: bool = False) -> ibis.Table:
    """Catalog features released by ``as_of`` (a feature without a release date always counts)."""
    features = inputs.snapshot.features
    released = features.filter(
        features.released_on.isnull() | (features.released_on <= inputs.as_of_literal())
    )
    if strategic_only:
        released = released.filter(released.strategic)
    return released


def adoption_share(inputs: MetricInputs, catalog: ibis.Table, used: ibis.Table) -> ibis.Table:
    """Per account: distinct ``catalog`` features among ``used`` rows ÷ catalog size.

    Every account gets a value (0 when it used none) unless the catalog is empty: then there is
    nothing to adopt and the metric has no data.
    """
    hits = used.join(catalog, used.event == catalog.key)
    adopted = hits.group_by("account_id").aggregate(adopted=hits.event.nunique())
    accounts = inputs.snapshot.accounts
    joined = accounts.left_join(adopted, accounts.id == adopted.account_id)
    size = catalog.count().as_scalar()
    return joined.select(
        account_id=accounts.id,
        value=joined.adopted.fill_null(0).cast("float64") / size.nullif(0),
    )


@metric(
    "feature_breadth",
    "Feature breadth",
    Unit.share,
    description=(
        "Share of the catalog features released by the as-of day that the account used in the "
        "trailing 28 days."
    ),
)
def feature_breadth(inputs: MetricInputs) -> ibis.Table:
    return adoption_share(inputs, released_features(inputs), inputs.activity_in(MONTH))


@metric(
    "strategic_adoption",
    "Strategic-feature adoption",
    Unit.share,
    description=(
        "Share of the strategic features released by the as-of day that the account used in the "
        "trailing 28 days."
    ),
)
def strategic_adoption(inputs: MetricInputs) -> ibis.Table:
    catalog = released_features(inputs, strategic_only=True)
    return adoption_share(inputs, catalog, inputs.activity_in(MONTH))


@metric(
    "new_feature_adoption",
    "New-feature adoption",
    Unit.share,
    description=(
        "Share of the features released in the trailing 90 days that the account has used since "
        "their release. No data when nothing was released."
    ),
)
def new_feature_adoption(inputs: MetricInputs) -> ibis.Table:
    features = inputs.snapshot.features
    new = features.filter(
        features.released_on.between(inputs.first_day(NEW_FEATURE_DAYS), inputs.as_of_literal())
    )
    window = inputs.activity_in(NEW_FEATURE_DAYS)
    # Used since release: the usage day is on or after that feature's release day.
    used = window.join(new, window.event == new.key).filter(lambda t: t.day >= t.released_on)
    return adoption_share(inputs, new, used.select("account_id", "event"))


@metric(
    "usage_trend",
    "Usage trend",
    Unit.change,
    description=(
        "Relative change of events in the trailing 28 days against the 28 days before "
        "((this − prior) ÷ prior). No data when there were no prior events."
    ),
    over_dates=True,
)
def usage_trend(inputs: MetricInputs) -> ibis.Table:
    current = inputs.activity_in(MONTH)
    prior = inputs.activity_in(MONTH, offset=MONTH)
    now = current.group_by(inputs.keys).aggregate(now=current.events.sum())
    before = prior.group_by(inputs.keys).aggregate(before=prior.events.sum())
    joined = before.left_join(now, list(inputs.keys))
    return joined.select(
        *(before[key] for key in inputs.keys),
        value=(joined.now.fill_null(0) - joined.before).cast("float64") / joined.before,
    )


@metric(
    "days_since_last_activity",
    "Days since last activity",
    Unit.days,
    description=(
        "Days from the last day with any attributed event to the as-of day (0 = active that "
        "day). No data for an account that never had an event."
    ),
)
def days_since_last_activity(inputs: MetricInputs) -> ibis.Table:
    activity = inputs.activity
    last = activity.group_by("account_id").aggregate(last=activity.day.max())
    return last.select("account_id", value=inputs.as_of_literal().delta(last.last, unit="day"))


@metric(
    "lifetime_events",
    "Events since first seen",
    Unit.number,
    default=0,
    description=(
        "Every attributed event up to the as-of day, since the account was first seen: how much "
        "the product has been part of its work, which a trailing window forgets."
    ),
)
def lifetime_events(inputs: MetricInputs) -> ibis.Table:
    activity = inputs.activity
    return activity.group_by("account_id").aggregate(value=activity.events.sum())


@metric(
    "events_per_active_month",
    "Events per active month",
    Unit.number,
    description=(
        "Events since first seen ÷ calendar months with at least one event: the account's usual "
        "month, however long it has been a customer. No data for an account never active."
    ),
)
def events_per_active_month(inputs: MetricInputs) -> ibis.Table:
    activity = inputs.activity
    month = activity.day.year() * 12 + activity.day.month()
    return activity.group_by("account_id").aggregate(
        value=activity.events.sum().cast("float64") / month.nunique()
    )
