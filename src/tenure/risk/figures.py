"""The one churn probability of an account: what every page, CTA, API answer and the renewal
forecast read.

The churn model stores two probabilities per account and day: P(churn between ``lead_days`` and
``horizon_days`` ahead) and, when a renewal is due within its reach, P(churn at that renewal).
Pages showed the first and CTAs fired on the second, so one account read 21% on the portfolio
and 0.534 in its CTA (issue 17). An account's **churn probability** is P(churn at the next
renewal) when the model gives one, else P(churn in the model's window); :func:`churn_window`
says which in words, and ARR at risk is ARR × that same probability.

>>> churn_probability(0.21, 0.534), churn_probability(0.21, None)
(0.534, 0.21)
>>> churn_window(120, 30, date(2026, 3, 1), 0.534), churn_window(120, 30, None, None)
('at the renewal on 2026-03-01', '30–120 days ahead')
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa


def risk_window(horizon_days: int, lead_days: int = 0) -> str:
    """The days a churn probability is about, as every surface says them.

    >>> risk_window(120, 30), risk_window(120)
    ('30–120 days ahead', 'within 120 days')
    """
    return f"{lead_days}–{horizon_days} days ahead" if lead_days else f"within {horizon_days} days"


def churn_probability(probability: float, renewal_probability: float | None) -> float:
    """The account's one churn probability from the two the model stores."""
    return renewal_probability if renewal_probability is not None else probability


def probability_for_renewal(
    probability: float | None,
    renewal_probability: float | None,
    horizon_days: int | None,
    as_of: date,
    renewal_on: date,
) -> float | None:
    """P(churn) as it bears on one renewal: the model's at-renewal figure, else its window figure
    when the renewal falls within the model's horizon; ``None`` beyond the model's reach — a
    30–120-days-ahead figure says nothing of a renewal 200 days away.

    >>> day = date(2026, 1, 1)
    >>> [probability_for_renewal(0.2, None, 120, day, date(2026, m, 1)) for m in (2, 4, 8)]
    [0.2, 0.2, None]
    >>> probability_for_renewal(0.2, 0.6, 120, day, date(2026, 8, 1))
    0.6
    """
    if renewal_probability is not None:
        return renewal_probability
    if probability is None or horizon_days is None:
        return None
    return probability if (renewal_on - as_of).days <= horizon_days else None


def churn_probability_sql(probability: Any, renewal_probability: Any) -> Any:
    """:func:`churn_probability` as a SQL expression over a churn-risk score's columns."""
    return sa.func.coalesce(renewal_probability, probability)


def churn_window(
    horizon_days: int, lead_days: int, renewal_on: date | None, renewal_probability: float | None
) -> str:
    """What the churn probability is about, as every surface says it."""
    if renewal_probability is not None and renewal_on is not None:
        return f"at the renewal on {renewal_on}"
    return risk_window(horizon_days, lead_days)
