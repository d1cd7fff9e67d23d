"""Measured plays: a stable control group per rule, and acted-vs-control outcome comparison.

A rule with ``control_share > 0`` keeps that share of the accounts it fires on without a CTA.
Assignment is a hash of (rule key, account external id), so it is the same on every run, every
machine and every database — an account never drifts between groups — and independent across rules.

The report compares the later churn (or expansion) rate of acted and control accounts. The
difference (control − acted: positive means the play reduces churn) carries Newcombe's hybrid
score interval (Newcombe 1998, "Interval estimation for the difference between independent
proportions", method 10), built from the two Wilson score intervals; it behaves well at the small
counts a single play produces, where the Wald interval does not.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from statistics import NormalDist


def control_bucket(rule_key: str, account_key: str) -> float:
    """A uniform number in [0, 1) fixed by (rule, account): sha256 of ``rule:account``."""
    digest = hashlib.sha256(f"{rule_key}:{account_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_control(rule_key: str, account_key: str, control_share: float) -> bool:
    return control_share > 0 and control_bucket(rule_key, account_key) < control_share


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when there are no trials."""
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return ((centre - spread) / denominator, (centre + spread) / denominator)


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Interval for p1 − p2 (Newcombe's method 10).

    >>> [round(b, 4) for b in newcombe_interval(56, 70, 48, 80)]  # Newcombe 1998, example (a)
    [0.0524, 0.3339]
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    diff = p1 - p2
    lower = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (lower, upper)


@dataclass(frozen=True)
class GroupOutcome:
    accounts: int
    events: int

    @property
    def rate(self) -> float | None:
        return self.events / self.accounts if self.accounts else None


@dataclass(frozen=True)
class PlayComparison:
    """Acted vs control for one rule and one outcome (churn or expansion)."""

    rule_key: str
    outcome: str
    acted: GroupOutcome
    control: GroupOutcome
    confidence: float
    # control rate − acted rate, with its interval; None until both groups have accounts.
    effect: float | None
    interval: tuple[float, float] | None

    @property
    def conclusive(self) -> bool:
        return self.interval is not None and (self.interval[0] > 0 or self.interval[1] < 0)


def compare(
    rule_key: str,
    outcome: str,
    acted: GroupOutcome,
    control: GroupOutcome,
    confidence: float = 0.95,
) -> PlayComparison:
    """Effect of acting = control rate − acted rate (for churn: positive means fewer churned)."""
    if acted.accounts == 0 or control.accounts == 0:
        return PlayComparison(rule_key, outcome, acted, control, confidence, None, None)
    effect = control.events / control.accounts - acted.events / acted.accounts
    interval = newcombe_interval(
        control.events, control.accounts, acted.events, acted.accounts, confidence
    )
    return PlayComparison(rule_key, outcome, acted, control, confidence, effect, interval)
