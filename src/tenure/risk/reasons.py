"""Per-account reasons: the features that moved one account's churn risk most, with their sign.

A contribution is in log-odds relative to the model's base (an average account): positive raises
the risk, negative lowers it, and an account's contributions plus the base add up to its logit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

TOP_REASONS = 5
BASE_COLUMN = "(base)"


@dataclass(frozen=True)
class Reason:
    """One feature's push on one account's risk."""

    feature: str
    value: Any
    contribution: float

    @property
    def direction(self) -> str:
        return "raises risk" if self.contribution > 0 else "lowers risk"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"direction": self.direction}


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
    contributions: pd.DataFrame, features: pd.DataFrame, limit: int = TOP_REASONS
) -> list[list[Reason]]:
    """For each row, the ``limit`` features with the largest absolute contribution, largest first.

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
                Reason(names[j], _plain(raw[i, j]), float(matrix[i, j]))
                for j in order
                if matrix[i, j] != 0.0
            ]
        )
    return result
