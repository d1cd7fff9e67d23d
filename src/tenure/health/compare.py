"""Backtest two health scorecard versions on the same history: which one flags the churners
earlier, and at what alert budget.

Pure: the caller passes the observation rows (one per customer and weekly date, with the metrics
known on that date) and the renewals at which churners were lost. Each version scores every row;
the figures are the churn model's early-warning definitions (ENGINEERING.md, reused from
:func:`tenure.risk.evaluation.early_warning`), with a low health score as the alarm:

- alert budget: the lowest ``budget`` share of scores on each date (5 %, 10 %, 20 %), and the
  version's own worst band (its red band, whatever share of accounts that is);
- flagged ≥ 90 days ahead: the churner was alerted on the last scoring date 90 days before the
  renewal at which it was lost;
- lead time: renewal minus the first date within the 365 days before it that the churner was
  alerted; head to head, the version with the longer lead flagged it earlier.

    comparison = compare_cards(v1, v2, rows, renewals)
    comparison.head_to_head[1].earlier_candidate
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tenure.health.schemas import AlertFigures, CardBacktest, HeadToHead
from tenure.health.scorecard import Scorecard, score_only
from tenure.risk.evaluation import LEAD_DAYS, EarlyWarning, early_warning
from tenure.words import percent

# Alert budgets a CS team can staff: a twentieth, a tenth, a fifth of the book each week.
BUDGETS = (0.05, 0.10, 0.20)


def scored_rows(card: Scorecard, rows: pd.DataFrame) -> pd.DataFrame:
    """account_id, observed_on, score, risk (= 100 − score) and in_worst_band per row."""
    scores = np.array([score_only(card, row) for row in rows.to_dict("records")], dtype=float)
    worst_band_below = card.bands[1].min_score if len(card.bands) > 1 else 101
    return pd.DataFrame(
        {
            "account_id": rows["account_id"].to_numpy(),
            "observed_on": rows["observed_on"].to_numpy(),
            "score": scores,
            "risk": 100.0 - scores,
            "in_worst_band": scores < worst_band_below,
        }
    )


def _figures(label: str, budget: float | None, warning: EarlyWarning) -> AlertFigures:
    leads = warning.lead_time_quantiles()["p50"]
    return AlertFigures(
        alert=label,
        budget=budget,
        churners=warning.churners,
        flagged_ahead=warning.flagged_ahead,
        flagged_ahead_share=None if not warning.churners else warning.flagged_ahead_share,
        median_lead_days=leads,
        never_flagged=warning.never_flagged,
    )


def _warnings(
    card: Scorecard, scored: pd.DataFrame, renewals: pd.DataFrame, budgets: Sequence[float]
) -> list[tuple[str, float | None, EarlyWarning]]:
    found: list[tuple[str, float | None, EarlyWarning]] = [
        (
            f"lowest {percent(budget)} of scores",
            budget,
            early_warning(scored, renewals, "risk", LEAD_DAYS, budget),
        )
        for budget in budgets
    ]
    band = card.bands[0].name
    share = float(scored["in_worst_band"].mean()) if len(scored) else None
    found.append(
        (
            f"{band} band",
            share,
            early_warning(scored, renewals, "risk", LEAD_DAYS, alert_column="in_worst_band"),
        )
    )
    return found


def _backtest(
    reference: str, card: Scorecard, warnings: list[tuple[str, float | None, EarlyWarning]]
) -> CardBacktest:
    return CardBacktest(
        reference=reference,
        scorecard=card.name,
        version=card.version,
        alerts=[_figures(label, budget, warning) for label, budget, warning in warnings],
    )


def _head_to_head(label: str, base: EarlyWarning, candidate: EarlyWarning) -> HeadToHead:
    both = sorted(set(base.lead_by_account) & set(candidate.lead_by_account))
    earlier_base = sum(base.lead_by_account[a] > candidate.lead_by_account[a] for a in both)
    earlier_candidate = sum(candidate.lead_by_account[a] > base.lead_by_account[a] for a in both)
    never = sum(base.lead_by_account[a] == candidate.lead_by_account[a] == 0 for a in both)
    return HeadToHead(
        alert=label,
        churners=len(both),
        earlier_base=earlier_base,
        earlier_candidate=earlier_candidate,
        same_day=len(both) - earlier_base - earlier_candidate - never,
        neither=never,
    )


def compare_cards(
    base: tuple[str, Scorecard],
    candidate: tuple[str, Scorecard],
    rows: pd.DataFrame,
    renewals: pd.DataFrame,
    budgets: Sequence[float] = BUDGETS,
) -> tuple[CardBacktest, CardBacktest, list[HeadToHead]]:
    """Both versions' early-warning figures on the same rows, and who flagged each churner first.

    ``rows``: account_id, observed_on and the columns the cards read; ``renewals``: account_id,
    renewal_on of each churner's lost renewal. The red-band line compares each version's own
    worst band, which may alert a different share of accounts in each: its ``budget`` says how many.
    """
    ordered = rows.sort_values(["observed_on", "account_id"], kind="stable").reset_index(drop=True)
    base_warnings = _warnings(base[1], scored_rows(base[1], ordered), renewals, budgets)
    candidate_warnings = _warnings(
        candidate[1], scored_rows(candidate[1], ordered), renewals, budgets
    )
    head_to_head = [
        _head_to_head(b[0] if b[0] == c[0] else "worst band", b[2], c[2])
        for b, c in zip(base_warnings, candidate_warnings, strict=True)
    ]
    return (
        _backtest(base[0], base[1], base_warnings),
        _backtest(candidate[0], candidate[1], candidate_warnings),
        head_to_head,
    )
