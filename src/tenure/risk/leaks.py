"""The leak guard: stop a churn fit that would learn the answer instead of the signs.

Two checks run before any model is fitted:

- **one feature that alone predicts the label** (its own AUC against it ≥ ``LEAK_AUC``): no
  real early sign is that clean, so the feature almost surely reads the outcome itself;
- **a subscription stored as one contract row** from its start to its cancellation while it is
  billed much more often (a monthly subscription as one contract): the contract's end date *is*
  the churn date, so every feature that reads the end date (days to renewal) gives the label away.

A fit that trips either stops with :class:`LeakSuspected`, naming the feature and the likely
cause; ``allow_leaks`` lets it run and the evaluation says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tenure.errors import InvalidInput
from tenure.risk.datasets import ColumnTypes, ContractTerm

# No honest early sign separates churners this cleanly on its own (single signs measured on the
# simulated bases read 0.60–0.72, docs/churn-risk.md); a feature at 0.95 most likely reads the
# outcome. The leak read 1.000 (days to renewal of one-row monthly subscriptions).
LEAK_AUC = 0.95
# A single feature's AUC needs a few of each class to mean anything.
MIN_CLASS_ROWS = 20
# A lost contract row spanning more than this many billing periods, ending on its loss day, is a
# subscription stored as one row (start → cancellation) rather than one row per term.
PERIODS_PER_ROW = 3
# … and the layout is called a leak when at least this share of such losses (and this many) are so.
LAYOUT_SHARE = 0.5
LAYOUT_MIN_LOSSES = 5
BILLING_PERIOD_DAYS = {"monthly": 31, "annual": 366}
# Metrics that read a contract's end date: with the leaky layout they read the churn date.
END_DATE_FEATURES = ("days_to_renewal",)
HOW_TO_STORE = (
    "store a monthly subscription as one contract row per billing period (each ending on its "
    "period's last day, the last one marked churned), or give the running subscription's row "
    "the current period's end date"
)


@dataclass(frozen=True)
class LeakFinding:
    """One reason to believe the model would read the label: which feature, how clean, why."""

    feature: str
    auc: float | None
    cause: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        alone = "" if self.auc is None else f" (alone it reads churn with AUC {self.auc:.3f})"
        return f"{self.feature}{alone}: {self.cause}"


class LeakSuspected(InvalidInput):
    """The fit stopped before learning from features that give the label away."""

    def __init__(self, findings: Sequence[LeakFinding]) -> None:
        self.findings = list(findings)
        listed = "\n".join(f"  - {finding}" for finding in self.findings)
        super().__init__(
            "the churn model was not fitted: it would learn the answer, not the warning signs.\n"
            f"{listed}\n"
            "Fix the data (or leave the feature out with --metric); to fit anyway, pass "
            "--allow-leaks and the evaluation will say so.",
            details=[finding.as_dict() for finding in self.findings],
        )


def single_feature_auc(values: pd.Series, churned: np.ndarray) -> float | None:
    """How well one numeric feature alone ranks churners: AUC folded to ≥ 0.5 (either sign).

    Rows without a value are left out; None when either class has too few rows with one.

    >>> single_feature_auc(pd.Series([1.0] * 20 + [2.0] * 20), np.array([0] * 20 + [1] * 20))
    1.0
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = ~np.isnan(numbers)
    labels = churned[present]
    if min(labels.sum(), len(labels) - labels.sum()) < MIN_CLASS_ROWS:
        return None
    auc = float(roc_auc_score(labels, numbers[present]))
    return max(auc, 1.0 - auc)


def feature_leaks(
    rows: pd.DataFrame, types: ColumnTypes, churned: np.ndarray, threshold: float = LEAK_AUC
) -> list[LeakFinding]:
    """Numeric features whose own AUC against the label is at least ``threshold``."""
    findings = []
    for name in types.numeric:
        auc = single_feature_auc(rows[name], churned)
        if auc is not None and auc >= threshold:
            findings.append(
                LeakFinding(
                    name,
                    auc,
                    f"no early sign is this clean on its own (≥ {threshold:.2f}); it most "
                    "likely reads the outcome — a field written when the customer left, or "
                    "dates that end on the churn day",
                )
            )
    return findings


def contract_layout_leaks(
    terms: Sequence[ContractTerm], features: Sequence[str]
) -> list[LeakFinding]:
    """Billing periods whose lost contracts end on their loss day after many periods.

    A monthly subscription stored as one row (start → cancellation) looks like a contract that
    runs for years and "renews" the day the customer leaves: its end date is the churn date.
    """
    findings = []
    for period, days in BILLING_PERIOD_DAYS.items():
        lost = [t for t in terms if t.billing_period == period and t.churned_on is not None]
        spanning = [
            t
            for t in lost
            if t.churned_on == t.ends_on
            and t.ends_on - t.starts_on > timedelta(days=PERIODS_PER_ROW * days)
        ]
        if len(spanning) < LAYOUT_MIN_LOSSES or len(spanning) < LAYOUT_SHARE * len(lost):
            continue
        example = max(spanning, key=lambda t: t.ends_on - t.starts_on)
        months = (example.ends_on - example.starts_on).days / 30.44
        cause = (
            f"{len(spanning)} of {len(lost)} lost {period} contracts are one row from the start "
            f"to the cancellation (e.g. account {example.account_id}: {example.starts_on} → "
            f"{example.ends_on}, {months:.0f} months billed {period}), so the contract's end "
            f"date is the churn date; {HOW_TO_STORE}"
        )
        named = [f for f in features if f.split("_change_")[0] in END_DATE_FEATURES]
        for feature in named or ["next renewal date (the label's calendar)"]:
            findings.append(LeakFinding(feature, None, cause))
    return findings
