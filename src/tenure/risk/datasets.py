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


def infer_column_types(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, ColumnTypes]:
    """Type every column but ``target``: numeric, categorical, or dropped with a reason.

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
            if whole and rows >= ID_MIN_ROWS and numbers.nunique() == rows:
                dropped[name] = "identifier: whole numbers, distinct on every row"
                continue
            numeric.append(name)
            converted[name] = numbers
            continue
        text = column.astype("string").str.strip()
        if rows >= ID_MIN_ROWS and text.nunique() >= ID_UNIQUE_SHARE * text.notna().sum():
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


@dataclass(frozen=True)
class ContractTerm:
    """One contract term of an account as the label builder needs it."""

    account_id: int
    starts_on: date
    ends_on: date
    churned: bool
    outcome_on: date | None


def monthly_dates(first: date, last: date) -> list[date]:
    """The first day of every month from ``first`` (rounded up) to ``last`` inclusive."""
    year, month = first.year, first.month
    if first.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    dates: list[date] = []
    while (current := date(year, month, 1)) <= last:
        dates.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def churn_date(term: ContractTerm) -> date:
    """When a churned term's loss happened: its outcome date, else its end date."""
    return term.outcome_on or term.ends_on


def observation_labels(
    terms: Sequence[ContractTerm], observed_on: Sequence[date], horizon_days: int, data_end: date
) -> pd.DataFrame:
    """Who was a customer on each observation date, and whether they churned within the horizon.

    An account is observed on ``t`` when one of its terms covers ``t`` (starts on or before ``t``,
    ends after it) and it has not already churned. The label is 1 when a churned term's churn date
    falls in ``(t, t + horizon]``. Dates whose label window would end after ``data_end`` are left
    out: their label is not known yet. Columns: account_id, observed_on, churned, next_renewal_on.
    """
    by_account: dict[int, list[ContractTerm]] = {}
    for term in terms:
        by_account.setdefault(term.account_id, []).append(term)
    horizon = timedelta(days=horizon_days)
    rows: list[tuple[int, date, int, date]] = []
    for t in observed_on:
        if t + horizon > data_end:
            continue
        for account_id, account_terms in by_account.items():
            current = [term for term in account_terms if term.starts_on <= t < term.ends_on]
            if not current:
                continue
            lost = [churn_date(term) for term in account_terms if term.churned]
            if any(day <= t for day in lost):
                continue
            churned = any(t < day <= t + horizon for day in lost)
            next_renewal = min(term.ends_on for term in current)
            rows.append((account_id, t, int(churned), next_renewal))
    return pd.DataFrame(rows, columns=["account_id", "observed_on", "churned", "next_renewal_on"])


def observation_dataset(
    labels: pd.DataFrame, features_by_date: Mapping[date, pd.DataFrame]
) -> pd.DataFrame:
    """Observation rows joined to the features known on each date (frames indexed by account_id).

    Every feature frame must have been computed from data strictly before its date; this function
    only joins, so the no-look-ahead guarantee rests on how the frames were made.
    """
    parts = []
    for observed_on, rows in labels.groupby("observed_on", sort=True):
        frame = features_by_date.get(observed_on)
        if frame is None:
            raise InvalidInput(f"no features computed for observation date {observed_on}")
        joined = rows.join(frame, on="account_id", how="inner")
        parts.append(joined)
    if not parts:
        raise InvalidInput(
            "no observations: no account was a customer on an observation date whose label "
            "window ends inside the data"
        )
    return pd.concat(parts, ignore_index=True)
