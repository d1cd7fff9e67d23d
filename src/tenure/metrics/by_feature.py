"""Usage by feature: the registry's usage metrics for each feature of the product's catalog.

The catalog (``feature`` rows: key = the event name that shows use, name = what people call it)
is data, so these metrics are generated from it rather than written out: every catalog feature
gets the same seven definitions, registered nowhere but built on demand by
:func:`feature_metrics`. They are ordinary :class:`~tenure.metrics.registry.Metric` objects —
one Ibis expression each, over the same activity roll-up, so they run on DuckDB, PostgreSQL and
Spark alike. The five over trailing windows are one grouped query (a
:class:`~tenure.metrics.registry.Family`) that runs over many as-of dates at once
(``over_dates``); the two lifetime totals are another, over each date's whole activity (which
keeps the event name before the detail window for them).

For a feature *F* (``key`` its event name), with windows as :mod:`tenure.metrics.inputs` defines:

- ``feature__<key>__events_28d`` — *F*: uses (month): events named ``key`` in the trailing 28 days;
- ``feature__<key>__days_28d`` — *F*: days used (month): distinct days with such an event;
- ``feature__<key>__user_share_28d`` — *F*: share of active users (month): known users who used
  *F* ÷ known users active at all in those 28 days (no data when nobody was active);
- ``feature__<key>__change_4w`` — *F*: change over 4 weeks: (uses in the last 4 weeks − uses in
  the 4 weeks before) ÷ the latter; no data without earlier use;
- ``feature__<key>__change_12w`` — *F*: change over 12 weeks: the last 4 weeks against weeks 9–12
  before the as-of day (the month that began 12 weeks ago);
- ``feature__<key>__lifetime`` — *F*: uses since first seen: every event named ``key`` up to the
  as-of day;
- ``feature__<key>__per_month`` — *F*: uses per active month: those uses ÷ the calendar
  months in which the account had any event (0 for an account active without using *F*; no data
  for one never active).

``<key>`` is the event name made safe as a column name on every backend (lower case, letters,
digits and ``_``, at most 30 characters, a short hash added when that changed or shortened it):

>>> feature_slug("report.created", "events_28d")
'feature__report_created_0c8ca1__events_28d'
>>> [m.name for m in feature_metrics([CatalogFeature("report.created", "Reports")])][:2]
['Reports: uses (month)', 'Reports: days used (month)']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ibis

from tenure.errors import NotFound
from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Family, Metric, Unit, all_metrics, get_metric

CONCEPT = "by_feature"
PREFIX = "feature__"
MONTH = 28
# A column name every backend keeps whole (PostgreSQL truncates identifiers at 63 bytes).
KEY_CHARACTERS = 30
_UNSAFE = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(rf"{PREFIX}(?P<key>[a-z0-9_]+?)__(?P<stat>[a-z0-9_]+)")


@dataclass(frozen=True)
class CatalogFeature:
    """One feature of the product's catalog: its event name and its name in words."""

    key: str
    name: str


@dataclass(frozen=True)
class Stat:
    """One of the per-feature definitions: slug suffix, label after the feature's name, unit."""

    suffix: str
    label: str
    unit: Unit
    default: float | None
    description: str
    # Over the whole activity up to the as-of day, not trailing windows: one date at a time.
    lifetime: bool = False


STATS = (
    Stat(
        "events_28d",
        "uses (month)",
        Unit.number,
        0,
        "Events showing use of {name} in the trailing 28 days.",
    ),
    Stat(
        "days_28d",
        "days used (month)",
        Unit.days,
        0,
        "Days in the trailing 28 with at least one use of {name}.",
    ),
    Stat(
        "user_share_28d",
        "share of active users (month)",
        Unit.share,
        None,
        "Known users who used {name} in the trailing 28 days ÷ known users active in those days. "
        "No data when nobody was active.",
    ),
    Stat(
        "change_4w",
        "change over 4 weeks",
        Unit.change,
        None,
        "Uses of {name} in the last 4 weeks against the 4 weeks before ((this − prior) ÷ prior). "
        "No data without earlier use.",
    ),
    Stat(
        "change_12w",
        "change over 12 weeks",
        Unit.change,
        None,
        "Uses of {name} in the last 4 weeks against weeks 9–12 before the as-of day, the month "
        "that began 12 weeks ago ((this − then) ÷ then). No data without use then.",
    ),
    Stat(
        "lifetime",
        "uses since first seen",
        Unit.number,
        0,
        "Every use of {name} up to the as-of day, since the account was first seen: how much "
        "the feature has been part of its work, which a trailing window forgets.",
        lifetime=True,
    ),
    Stat(
        "per_month",
        "uses per active month",
        Unit.number,
        None,
        "Uses of {name} since first seen ÷ calendar months in which the account had any event: "
        "its usual month of the feature. No data for an account never active.",
        lifetime=True,
    ),
)
_STATS = {stat.suffix: stat for stat in STATS}


def safe_key(key: str) -> str:
    """``key`` as a column-name part; a hash of the original is added when it had to change."""
    safe = _UNSAFE.sub("_", key.lower()).strip("_")
    if safe == key and len(safe) <= KEY_CHARACTERS:
        return safe
    digest = hashlib.sha1(key.encode()).hexdigest()[:6]
    return f"{safe[:KEY_CHARACTERS]}_{digest}".lstrip("_")


def feature_slug(key: str, suffix: str) -> str:
    return f"{PREFIX}{safe_key(key)}__{suffix}"


def usage_by_feature(inputs: MetricInputs, catalog: Sequence[CatalogFeature]) -> ibis.Table:
    """Every catalog feature's five windowed metrics in one grouped query: the keys, then one
    column per ``feature_slug(key, suffix)``.

    The trailing month and the two earlier months are each reduced to one row per (account,
    event) — uses, days, users — and the columns are sums of those rows picked by event name.
    """
    month = inputs.activity_in(MONTH)
    known = month.filter(month.user_id.notnull())
    active = known.group_by(inputs.keys).aggregate(active=known.user_id.nunique())
    names = [f.key for f in catalog]
    per_event = [*inputs.keys, "event"]
    used = month.filter(month.event.isin(names))
    parts = [
        used.group_by(per_event).aggregate(
            now=used.events.sum().cast("int64"),
            days=used.day.nunique().cast("int64"),
            users=used.user_id.nunique().cast("int64"),
            before=_ZERO,
            then=_ZERO,
        )
    ]
    for column, offset in (("before", MONTH), ("then", 2 * MONTH)):
        earlier = inputs.activity_in(MONTH, offset=offset)
        earlier = earlier.filter(earlier.event.isin(names))
        sums = {name: _ZERO for name in ("now", "days", "users", "before", "then")}
        sums[column] = earlier.events.sum().cast("int64")
        parts.append(earlier.group_by(per_event).aggregate(**sums))
    rows = ibis.union(*parts)
    rows = rows.left_join(active, list(inputs.keys)).select(*rows.columns, "active")
    columns: dict[str, ibis.Value] = {}
    for feature in catalog:
        mine = rows.event == feature.key

        def total(column: str, mine: ibis.BooleanValue = mine) -> ibis.NumericValue:
            return ibis.ifelse(mine, rows[column], 0).sum()

        now = total("now")
        columns[feature_slug(feature.key, "events_28d")] = now
        columns[feature_slug(feature.key, "days_28d")] = total("days")
        share = total("users").cast("float64") / rows.active.max().nullif(0)
        columns[feature_slug(feature.key, "user_share_28d")] = share
        for suffix, earlier_column in (("change_4w", "before"), ("change_12w", "then")):
            prior = total(earlier_column).nullif(0)
            columns[feature_slug(feature.key, suffix)] = (now - prior).cast("float64") / prior
    table = rows.group_by(inputs.keys).aggregate(**columns)
    # Accounts active in the month without using any catalog feature have no rows above, yet
    # their shares are 0, not "no data" (counts get their default 0 where the family is joined).
    idle = active.anti_join(table, list(inputs.keys)).filter(lambda t: t.active > 0)
    return ibis.union(
        table,
        idle.select(
            *inputs.keys,
            **{
                slug: ibis.literal(0.0 if slug.endswith("__user_share_28d") else None).cast(
                    value.type()
                )
                for slug, value in columns.items()
            },
        ),
    )


_ZERO = ibis.literal(0, type="int64")


def lifetime_by_feature(inputs: MetricInputs, catalog: Sequence[CatalogFeature]) -> ibis.Table:
    """Every catalog feature's lifetime totals in one grouped query over the whole activity up
    to the as-of day: the keys, then ``feature_slug(key, "lifetime")`` and
    ``feature_slug(key, "per_month")`` per feature, one row per account ever active.

    Before the detail window the activity keeps the event (not the user), so these count every
    event since the account was first seen (:func:`tenure.metrics.compute.activity_as_of`).
    """
    activity = inputs.activity
    month = activity.day.year() * 12 + activity.day.month()
    active = activity.group_by(inputs.keys).aggregate(months=month.nunique())
    used = activity.filter(activity.event.isin([f.key for f in catalog]))
    uses = used.group_by([*inputs.keys, "event"]).aggregate(uses=used.events.sum().cast("int64"))
    # Every account ever active has a row: one that never used a feature gets 0 a month.
    rows = active.left_join(uses, list(inputs.keys)).select(*active.columns, "event", "uses")
    columns: dict[str, ibis.Value] = {}
    for feature in catalog:
        lifetime = ibis.ifelse(rows.event == feature.key, rows.uses, 0).sum()
        columns[feature_slug(feature.key, "lifetime")] = lifetime
        per_month = lifetime.cast("float64") / rows.months.max()
        columns[feature_slug(feature.key, "per_month")] = per_month
    return rows.group_by(inputs.keys).aggregate(**columns)


def feature_metrics(catalog: Iterable[CatalogFeature]) -> list[Metric]:
    """The per-feature metrics of ``catalog``, feature by feature in key order: the windowed
    ones computed together over many dates, the lifetime totals together date by date (two
    :class:`~tenure.metrics.registry.Family` queries)."""
    features = sorted(catalog, key=lambda f: f.key)
    windows = Family(CONCEPT, lambda inputs: usage_by_feature(inputs, features))
    lifetime = Family(CONCEPT, lambda inputs: lifetime_by_feature(inputs, features))
    return [
        Metric(
            slug=feature_slug(f.key, stat.suffix),
            name=f"{f.name}: {stat.label}",
            unit=stat.unit,
            description=stat.description.format(name=f"{f.name} ({f.key})"),
            concept=CONCEPT,
            build=(family := lifetime if stat.lifetime else windows).build,
            default=stat.default,
            over_dates=not stat.lifetime,
            family=family,
        )
        for f in features
        for stat in STATS
    ]


def catalog_of(snapshot_features: ibis.Table) -> list[CatalogFeature]:
    """The catalog of a snapshot's ``features`` table (a feature without a name goes by its key)."""
    rows = snapshot_features.select("key", "name").to_pyarrow().to_pylist()
    return [CatalogFeature(str(r["key"]), str(r["name"] or r["key"])) for r in rows]


def metrics_with_catalog(catalog: Iterable[CatalogFeature]) -> list[Metric]:
    """Every registered metric, then the per-feature metrics of ``catalog``."""
    return [*all_metrics(), *feature_metrics(catalog)]


def find_metric(slug: str, catalog: Sequence[CatalogFeature]) -> Metric:
    """A registered metric, or a per-feature metric of ``catalog``; NotFound names both kinds."""
    if slug.startswith(PREFIX):
        for metric in feature_metrics(catalog):
            if metric.slug == slug:
                return metric
        raise NotFound(
            f"unknown metric {slug!r}: no feature of the catalog has that metric "
            f"(features: {', '.join(f.key for f in catalog) or 'none'})"
        )
    return get_metric(slug)


def is_feature_metric(slug: str) -> bool:
    return slug.startswith(PREFIX)


def _stat(slug: str) -> tuple[str, Stat] | None:
    match = _SLUG.fullmatch(slug)
    stat = _STATS.get(match["stat"]) if match else None
    return (match["key"], stat) if match and stat else None


def stat_unit(slug: str) -> Unit | None:
    """The unit of a per-feature metric read from its slug alone (None for any other slug)."""
    found = _stat(slug)
    return found[1].unit if found else None


def feature_metric_label(slug: str) -> str | None:
    """A per-feature metric's words when its catalog name is not at hand (None for any other
    slug): the event name as the slug keeps it, then what is measured.

    >>> feature_metric_label("feature__sso_login_5f0e2a__days_28d")
    'sso login: days used (month)'
    """
    found = _stat(slug)
    if found is None:
        return None
    key, stat = found
    words = re.sub(r"_[0-9a-f]{6}$", "", key).replace("_", " ")
    return f"{words}: {stat.label}"
