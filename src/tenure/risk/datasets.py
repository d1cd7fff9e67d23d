"""Churn datasets: a plain table with a target column, or observations from account history.

Table mode types every column by itself (no dataset-specific code): numbers stay numbers, text
becomes categories, identifiers and constants are dropped with the reason, and the target is
encoded to 0/1 only when it is clear which value means churn.

Event mode follows the churn-analytics literature: on each observation date ``t`` the features are
what was known before ``t`` and the label is "churned within ``horizon_days`` after ``t``"; an
observation is kept only when its whole label window ends inside the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tenure.errors import InvalidInput

# Values read as "churned" / "stayed" once lower-cased and stripped.
POSITIVE_LABELS = frozenset(
    {
        "1",
        "1.0",
        "yes",
        "y",
        "true",
        "t",
        "churn",
        "churned",
        "lost",
        "cancelled",
        "canceled",
        "left",
        "attrited",
        "exited",
        "inactive",
    }
)
NEGATIVE_LABELS = frozenset(
    {
        "0",
        "0.0",
        "no",
        "n",
        "false",
        "f",
        "retained",
        "stayed",
        "active",
        "renewed",
        "kept",
        "not churned",
        "no churn",
        "existing",
    }
)
# A text column with at least this share of distinct values names rows, it does not describe them.
ID_UNIQUE_SHARE = 0.95
# Below this many rows "every value distinct" proves nothing about a column being an identifier.
ID_MIN_ROWS = 20


@dataclass(frozen=True)
class ColumnTypes:
    """How each feature column of a table is used, and why the others were left out."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: Mapping[str, str] = field(default_factory=dict)
    # Numeric features that break an account-level figure into many parts (usage by feature of
    # the catalog): the models weigh them down (tenure.risk.models.DETAIL_WEIGHT).
    detail: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


@dataclass(frozen=True)
class TableDataset:
    """Features, a 0/1 target and the typing decisions, ready for cross-validation."""

    features: pd.DataFrame
    target: np.ndarray
    column_types: ColumnTypes
    target_column: str
    positive_value: str
    source: str

    @property
    def churn_rate(self) -> float:
        return float(self.target.mean())


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame; a clear error for anything else."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        if suffix in {".csv", ".txt", ".tsv"}:
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InvalidInput(f"{path}: cannot be read as {suffix[1:]}: {error}") from error
    raise InvalidInput(f"{path}: unsupported file type {suffix!r}; use .csv, .tsv or .parquet")


def _as_numbers(column: pd.Series) -> pd.Series | None:
    """The column as floats when every non-blank value is a number (blank → missing), else None."""
    if column.dtype == bool:
        return column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    text = column.astype("string").str.strip()
    text = text.mask(text == "")
    parsed = pd.to_numeric(text, errors="coerce")
    if parsed[text.notna()].isna().any():
        return None
    return parsed.astype(float)


def infer_column_types(
    frame: pd.DataFrame, target: str | None = None, *, drop_identifiers: bool = True
) -> tuple[pd.DataFrame, ColumnTypes]:
    """Type every column but ``target``: numeric, categorical, or dropped with a reason.

    ``drop_identifiers=False`` keeps columns that merely look like identifiers (for frames whose
    identifier columns were removed by name, such as metric frames).

    >>> frame = pd.DataFrame({"id": [f"c{i}" for i in range(30)], "plan": ["a", "b"] * 15})
    >>> _, types = infer_column_types(frame.assign(seats=range(30), y=[0, 1] * 15), "y")
    >>> types.categorical, sorted(types.dropped)
    (('plan',), ['id', 'seats'])
    """
    numeric: list[str] = []
    categorical: list[str] = []
    dropped: dict[str, str] = {}
    converted: dict[str, pd.Series] = {}
    rows = len(frame)
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        present = column.dropna()
        if present.nunique() <= 1:
            dropped[name] = "constant or empty"
            continue
        numbers = _as_numbers(column)
        if numbers is not None:
            whole = bool(np.all(np.mod(numbers.dropna(), 1) == 0))
            distinct = numbers.nunique() == rows
            if drop_identifiers and whole and rows >= ID_MIN_ROWS and distinct:
                dropped[name] = "identifier: whole numbers, distinct on every row"
                continue
            numeric.append(name)
            converted[name] = numbers
            continue
        text = column.astype("string").str.strip()
        mostly_distinct = text.nunique() >= ID_UNIQUE_SHARE * text.notna().sum()
        if drop_identifiers and rows >= ID_MIN_ROWS and mostly_distinct:
            dropped[name] = "identifier: a distinct value on (almost) every row"
            continue
        categorical.append(name)
        converted[name] = text.astype(object).where(text.notna(), np.nan)
    features = pd.DataFrame(converted, index=frame.index)[numeric + categorical]
    return features, ColumnTypes(tuple(numeric), tuple(categorical), dropped)


def encode_target(column: pd.Series) -> tuple[np.ndarray, str]:
    """The target as 0/1 and the value that means churn; an error naming the values if unclear."""
    name = column.name
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        # Line numbers as in the file: header is line 1.
        lines = ", ".join(str(i + 2) for i in missing[:5])
        raise InvalidInput(
            f"target column {name!r} is empty on {len(missing)} row(s) (line {lines}"
            f"{', …' if len(missing) > 5 else ''}); fill or remove those rows"
        )
    text = column.astype(str).str.strip()
    if column.dtype == bool:
        text = text.str.lower()
    values = sorted(text.unique())
    if len(values) != 2:
        shown = ", ".join(repr(v) for v in values[:10])
        raise InvalidInput(
            f"target column {name!r} must have exactly two values (churned / stayed); "
            f"found {len(values)}: {shown}{', …' if len(values) > 10 else ''}"
        )
    positive = [v for v in values if v.lower() in POSITIVE_LABELS]
    negative = [v for v in values if v.lower() in NEGATIVE_LABELS]
    if len(positive) != 1 or len(negative) != 1:
        raise InvalidInput(
            f"target column {name!r} has values {values[0]!r} and {values[1]!r}; cannot tell "
            "which one means churn. Recode it as yes/no, true/false, 1/0 or churned/retained"
        )
    return (text == positive[0]).to_numpy(dtype=np.int64), positive[0]


def table_dataset(frame: pd.DataFrame, target: str, source: str = "table") -> TableDataset:
    """A plain table as a churn dataset: typed features and an encoded target."""
    if target not in frame.columns:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:20])
        raise InvalidInput(f"{source}: no target column {target!r}; columns are {shown}")
    labels, positive = encode_target(frame[target])
    features, types = infer_column_types(frame, target)
    if not types.features:
        raise InvalidInput(f"{source}: no usable feature columns (dropped: {dict(types.dropped)})")
    counts = np.bincount(labels, minlength=2)
    if counts.min() < 5:
        raise InvalidInput(
            f"{source}: target {target!r} has only {counts.min()} row(s) of one class; "
            "at least 5 of each are needed for 5-fold cross-validation"
        )
    return TableDataset(features, labels, types, target, positive, source)


# ---------------------------------------------------------------- event mode

# Trend features compare each metric with its value this many months earlier.
# A quarter of weekly scores: a fall in usage over it says more than a low level.
CHANGE_WEEKS = 12
# Metric-frame columns that name an account rather than describe it.
ACCOUNT_ID_COLUMNS = ("account_id", "account_external_id", "account_name")


@dataclass(frozen=True)
class ContractTerm:
    """One contract term of an account as the label builder needs it.

    ``churned_on`` is the day the account was lost through this term — its end date when it was
    not renewed, the cancellation date when it was cancelled early — or None when it was not lost.
    """

    account_id: int
    starts_on: date
    ends_on: date
    churned_on: date | None = None
    # How often the term is billed (monthly, annual, multi_year): sets the horizon's defaults.
    billing_period: str = "annual"
    # Renewing by itself past ends_on (tenure.accounts.arr.continues): a customer until lost.
    continues: bool = False
    # The renewal it comes up for (tenure.accounts.renewal.renewal_on); None: renews itself
    # monthly, no renewal decision. Default: ends_on.
    renewal_on: date | None = field(default=None)

    def renews_on(self) -> date | None:
        return self.ends_on if self.renewal_on is None and not self.continues else self.renewal_on


def weekly_dates(first: date, last: date) -> list[date]:
    """Every Monday from ``first`` (rounded up to a Monday) to ``last`` inclusive.

    Scores are read every morning; weekly observations keep the "90 days before renewal" point
    within six days of a scoring date, where month starts left it up to a month early.

    >>> weekly_dates(date(2025, 1, 1), date(2025, 1, 20))
    [datetime.date(2025, 1, 6), datetime.date(2025, 1, 13), datetime.date(2025, 1, 20)]
    """
    day = first + timedelta(days=-first.weekday() % 7)
    dates: list[date] = []
    while day <= last:
        dates.append(day)
        day += timedelta(weeks=1)
    return dates


def customers_on(terms: Sequence[ContractTerm], observed_on: Sequence[date]) -> pd.DataFrame:
    """Who was a customer on each date, when they renew next and when (if ever) they churn.

    An account is a customer on ``t`` when one of its terms covers ``t`` (``starts_on <= t <=
    ends_on``, or after ``starts_on`` for a term renewing by itself) and it was not lost on or
    before ``t``. Columns: account_id, observed_on, next_renewal_on (earliest renewal among the
    covering terms; NaT when they all renew by themselves monthly), churned_on (the first loss
    after ``t``, or NaT). Nothing here depends on features: it is the outcome side only.
    """
    by_account: dict[int, list[ContractTerm]] = {}
    for term in terms:
        by_account.setdefault(term.account_id, []).append(term)
    rows: list[tuple[int, date, date | None, date | None]] = []
    for t in observed_on:
        for account_id, account_terms in by_account.items():
            current = [
                term
                for term in account_terms
                if term.starts_on <= t and (t <= term.ends_on or term.continues)
            ]
            if not current:
                continue
            losses = sorted(term.churned_on for term in account_terms if term.churned_on)
            if any(day <= t for day in losses):
                continue
            next_loss = next((day for day in losses if day > t), None)
            renewals = [day for day in (term.renews_on() for term in current) if day is not None]
            rows.append((account_id, t, min(renewals, default=None), next_loss))
    frame = pd.DataFrame(
        rows, columns=["account_id", "observed_on", "next_renewal_on", "churned_on"]
    )
    return frame.astype({"account_id": "int64"})


def _days(frame: pd.DataFrame, column: str, days: int) -> pd.Series:
    return pd.to_datetime(frame[column]) + pd.Timedelta(days=days)


def horizon_labels(
    customers: pd.DataFrame, horizon_days: int, data_end: date, lead_days: int = 0
) -> pd.DataFrame:
    """``churned`` = lost within ``(t + lead, t + horizon]``; rows whose window ends after the
    data go.

    A window that is not over yet has no known label: keeping it would count future churners as
    stayers (and let training rows overlap the future). With a lead, a loss in the first
    ``lead_days`` is not in the window (:func:`lost_within` finds those rows).
    """
    if not 0 <= lead_days < horizon_days:
        raise InvalidInput(
            f"the lead ({lead_days} days) must be at least 0 and shorter than the horizon "
            f"({horizon_days} days): churn is learned between the two"
        )
    window_end = _days(customers, "observed_on", horizon_days)
    known = customers[window_end <= pd.Timestamp(data_end)].copy()
    churned_on = pd.to_datetime(known["churned_on"])
    window_start = _days(known, "observed_on", lead_days)
    known["churned"] = (
        (churned_on > window_start) & (churned_on <= window_end[known.index])
    ).astype("int64")
    return known


def lost_within(rows: pd.DataFrame, days: int) -> np.ndarray:
    """Rows whose account is lost within ``days`` of the observation.

    Within the lead, the account has decided already: a model meant to warn while there is time
    to act does not learn from it, as its strong signals would teach it that leaving is not in
    its window.

    >>> rows = pd.DataFrame({"observed_on": [date(2025, 1, 6)] * 3,
    ...                      "churned_on": [date(2025, 1, 20), date(2025, 4, 1), None]})
    >>> lost_within(rows, 30).tolist()
    [True, False, False]
    """
    gap = pd.to_datetime(rows["churned_on"]) - pd.to_datetime(rows["observed_on"])
    return np.asarray((gap <= pd.Timedelta(days=days)).to_numpy(), dtype=bool)


def renewal_labels(customers: pd.DataFrame, data_end: date, within_days: int = 365) -> pd.DataFrame:
    """``churned`` = lost at (or before) the next renewal, for renewals due within ``within_days``.

    Kept only when that renewal is over by ``data_end``, so its outcome is known.
    """
    renewal = pd.to_datetime(customers["next_renewal_on"])
    due = (renewal <= _days(customers, "observed_on", within_days)) & (
        renewal <= pd.Timestamp(data_end)
    )
    known = customers[due].copy()
    known["churned"] = (pd.to_datetime(known["churned_on"]) <= renewal[due]).astype("int64")
    return known


def observation_dataset(
    labels: pd.DataFrame, features_by_date: Mapping[date, pd.DataFrame]
) -> pd.DataFrame:
    """Observation rows joined to the features known on each date (frames indexed by account_id).

    Every feature frame must have been computed from data up to its date only; this function only
    joins, so the no-look-ahead guarantee rests on how the frames were made (see
    :func:`metric_features`).
    """
    parts = []
    for observed_on, rows in labels.groupby("observed_on", sort=True):
        frame = features_by_date.get(observed_on)
        if frame is None:
            raise InvalidInput(f"no features computed for observation date {observed_on}")
        parts.append(rows.join(frame, on="account_id", how="inner"))
    if not parts:
        raise InvalidInput(
            "no observations: no account was a customer on an observation date whose outcome "
            "is known yet; load more history or shorten the horizon"
        )
    return pd.concat(parts, ignore_index=True)


def metric_features(
    con: Any,
    daily: Any,
    snapshot: Any,
    dates: Sequence[date],
    metrics: Sequence[str] | None = None,
) -> dict[date, pd.DataFrame]:
    """The metrics (the registry and the catalog's usage by feature, or the named ones) as of
    each date, indexed by account_id.

    Metrics as of ``d`` see only what was known at the end of ``d`` (events before the cutoff,
    operational rows by their effective dates) — the registry's as-of contract. ``daily`` is the
    attributed activity read once for every date (``tenure.metrics.incremental``
    ``daily_activity_table``, the path the daily run takes too), computed a few dates at a time.
    """
    from tenure.metrics.by_feature import catalog_of, find_metric, metrics_with_catalog
    from tenure.metrics.incremental import DATES_PER_QUERY
    from tenure.metrics.over_dates import metrics_over_dates_in_groups

    if not dates:
        return {}
    catalog = catalog_of(snapshot.features)
    chosen = (
        [find_metric(slug, catalog) for slug in metrics]
        if metrics is not None
        else metrics_with_catalog(catalog)
    )
    # Numeric metrics stay float even on a day where one is all missing (e.g. no NPS yet),
    # so the days concatenate with one dtype per column.
    numeric = {m.slug: "float64" for m in chosen if m.unit.is_numeric}
    by_date: dict[date, pd.DataFrame] = {}
    for group in metrics_over_dates_in_groups(
        con, daily, snapshot, dates, chosen, dates_per_query=DATES_PER_QUERY
    ):
        group = group.drop(columns=list(ACCOUNT_ID_COLUMNS[1:])).astype(numeric)
        for day, rows in group.groupby("as_of", sort=True):
            by_date[day] = rows.drop(columns="as_of").set_index("account_id")
    empty = next(iter(by_date.values())).iloc[0:0] if by_date else pd.DataFrame()
    return {day: by_date.get(day, empty) for day in dates}


def change_reference(day: date, weeks: int = CHANGE_WEEKS) -> date:
    """The date whose metrics ``day``'s change is measured against.

    >>> change_reference(date(2025, 5, 26))
    datetime.date(2025, 3, 3)
    """
    return day - timedelta(weeks=weeks)


def with_changes(
    features_by_date: Mapping[date, pd.DataFrame], weeks: int = CHANGE_WEEKS
) -> dict[date, pd.DataFrame]:
    """Each frame plus ``<metric>_change_<n>w``: the numeric metrics' change over ``weeks``.

    Churn is a process: a fall in usage says more than a low level. The change compares a frame
    with the one ``weeks`` earlier (missing when that frame was not computed or the account was
    not there), so it still uses only data from before each date.
    """
    from tenure.metrics.by_feature import is_feature_metric

    result = {}
    for day, frame in features_by_date.items():
        numeric = frame.select_dtypes("number")
        # Usage by feature carries its own changes over 4 and 12 weeks.
        numeric = numeric[[c for c in numeric.columns if not is_feature_metric(c)]]
        earlier = features_by_date.get(change_reference(day, weeks))
        if earlier is None:
            change = pd.DataFrame(np.nan, index=frame.index, columns=numeric.columns)
        else:
            change = numeric - earlier.reindex(frame.index)[numeric.columns]
        result[day] = frame.join(change.add_suffix(f"_change_{weeks}w"))
    return result
