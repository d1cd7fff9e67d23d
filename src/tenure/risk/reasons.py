"""Per-account reasons: the features that moved one account's churn risk most, with their sign.

A contribution is in log-odds relative to the model's base (an average account): positive raises
the risk, negative lowers it, and an account's contributions plus the base add up to its logit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tenure.errors import NotFound
from tenure.metrics.by_feature import feature_metric_label, stat_unit
from tenure.metrics.registry import Metric, Unit, format_value, get_metric

TOP_REASONS = 5
BASE_COLUMN = "(base)"
# ``license_utilization_change_12w``: a metric's change over that many weeks (risk.datasets).
CHANGE_FEATURE = re.compile(r"(?P<slug>.+)_change_(?P<weeks>\d+)w")


@dataclass(frozen=True)
class Reason:
    """One feature's push on one account's risk."""

    feature: str
    value: Any
    contribution: float
    # The feature in words when the registry alone cannot say it (usage by a catalog feature).
    label: str | None = None

    @property
    def direction(self) -> str:
        return "raises risk" if self.contribution > 0 else "lowers risk"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "direction": self.direction,
            "label": self.label or feature_label(self.feature),
        }


def _metric(slug: str) -> Metric | None:
    try:
        return get_metric(slug)
    except NotFound:
        return None


def feature_label(feature: str) -> str:
    """A model feature in a CS manager's words: the metric's name, or its change over n weeks.

    >>> feature_label("billing_tickets_90d"), feature_label("license_utilization_change_12w")
    ('Billing tickets (90 days)', 'License utilization, change over 12 weeks')
    >>> feature_label("MonthlyCharges")
    'MonthlyCharges'
    """
    if (by_feature := feature_metric_label(feature)) is not None:
        return by_feature
    change = CHANGE_FEATURE.fullmatch(feature)
    if change and (metric := _metric(change["slug"])) is not None:
        return f"{metric.name}, change over {change['weeks']} weeks"
    metric = _metric(feature)
    return feature if metric is None else metric.name


def reason_text(reason: Mapping[str, Any]) -> str:
    """``Label: value`` with the value in its metric's unit (a change in points for shares).

    >>> reason_text({"feature": "license_utilization_change_12w", "value": -0.25})
    'License utilization, change over 12 weeks: -25 pts'
    >>> reason_text({"feature": "touchpoints_90d", "value": 2.0})
    'Touchpoints (90 days): 2'
    >>> reason_text({"feature": "nps_latest", "value": None})
    'Latest NPS answer: no data'
    """
    feature, value = str(reason.get("feature")), reason.get("value")
    label = reason.get("label") or feature_label(feature)
    if value is None:
        # The model saw no value (no NPS answer yet): the bare name read as if it were one.
        return f"{label}: no data"
    if (unit := stat_unit(feature)) is not None and isinstance(value, int | float):
        return f"{label}: {format_value(unit, value)}"
    change = CHANGE_FEATURE.fullmatch(feature)
    metric = _metric(change["slug"] if change else feature)
    if metric is None or not isinstance(value, int | float):
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
    elif change and metric.unit is Unit.share:
        shown = f"{value * 100:+.0f} pts"
    elif change:
        shown = f"{value:+.3g}"
    else:
        shown = metric.format(value)
    return f"{label}: {shown}"


def _plain(value: Any) -> Any:
    """A feature value as JSON can store it (NaN → None, numpy scalars → Python)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def top_reasons(
    contributions: pd.DataFrame,
    features: pd.DataFrame,
    limit: int = TOP_REASONS,
    labels: Mapping[str, str] | None = None,
) -> list[list[Reason]]:
    """For each row, the ``limit`` features with the largest absolute contribution, largest first.

    ``labels`` names features the registry does not know (the catalog's usage by feature).

    >>> c = pd.DataFrame({"(base)": [-1.0], "seats": [0.8], "nps": [-0.3], "tickets": [0.05]})
    >>> f = pd.DataFrame({"seats": [3], "nps": [9], "tickets": [0]})
    >>> [(r.feature, r.contribution) for r in top_reasons(c, f, limit=2)[0]]
    [('seats', 0.8), ('nps', -0.3)]
    """
    values = contributions.drop(columns=[BASE_COLUMN])
    names = list(values.columns)
    matrix = values.to_numpy(dtype=float)
    raw = features.loc[:, names].to_numpy(dtype=object)
    result: list[list[Reason]] = []
    for i in range(len(matrix)):
        order = np.argsort(-np.abs(matrix[i]), kind="stable")[:limit]
        result.append(
            [
                Reason(
                    names[j],
                    _plain(raw[i, j]),
                    float(matrix[i, j]),
                    (labels or {}).get(names[j]),
                )
                for j in order
                if matrix[i, j] != 0.0
            ]
        )
    return result
