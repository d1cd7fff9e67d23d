"""Backtesting two scorecard versions on hand-built history: who flagged the churner first."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from tenure.health.compare import compare_cards
from tenure.health.compare_service import metrics_read
from tenure.health.scorecard import load_scorecard_text

# One measure each: version 1 watches seat use, version 2 the usage trend.
CARD = """\
name: watch
version: "{version}"
bands: [{{name: red, min_score: 0}}, {{name: green, min_score: 50}}]
profiles:
  - name: everyone
    measures:
      - metric: {metric}
        weight: 100
        thresholds: [{{at: {at}, points: 100}}]
"""
SEATS = load_scorecard_text(CARD.format(version=1, metric="license_utilization", at=0.5), "v1")
TREND = load_scorecard_text(CARD.format(version=2, metric="usage_trend", at=0), "v2")

FIRST = date(2025, 1, 6)  # a Monday
WEEKS = [FIRST + timedelta(weeks=n) for n in range(20)]  # … 2025-05-19
RENEWAL = WEEKS[-1]  # account 10 is lost at this renewal


def _rows() -> pd.DataFrame:
    """Ten customers, every one using its seats; only account 10's usage falls, from week one.
    Account 10 is last in row order, so a tie never alerts it by accident."""
    return pd.DataFrame(
        [
            {
                "account_id": account,
                "observed_on": day,
                "license_utilization": 0.9,
                "usage_trend": -1.0 if account == 10 else 1.0,
            }
            for day in WEEKS
            for account in range(1, 11)
        ]
    )


def test_the_version_watching_the_falling_usage_flags_the_churner_first() -> None:
    renewals = pd.DataFrame({"account_id": [10], "renewal_on": [RENEWAL]})
    seats, trend, head_to_head = compare_cards(
        ("watch@1", SEATS), ("watch@2", TREND), _rows(), renewals
    )
    by_alert = {a.alert: a for a in trend.alerts}
    assert list(by_alert) == [
        "lowest 5 % of scores",
        "lowest 10 % of scores",
        "lowest 20 % of scores",
        "red band",
    ]
    # Version 2 scores account 10 at 0 on every Monday: alerted from the first one, 133 days
    # (2025-01-06 → 2025-05-19) before the renewal, and on 2025-02-17, the last Monday at
    # least 90 days before it.
    ten = by_alert["lowest 10 % of scores"]
    assert (ten.churners, ten.flagged_ahead, ten.median_lead_days, ten.never_flagged) == (
        1,
        1,
        133.0,
        0,
    )
    # Its red band holds account 10 alone: a tenth of the accounts.
    assert by_alert["red band"].budget == 0.1 and by_alert["red band"].flagged_ahead == 1
    # Version 1 sees every account at 100: the budget's tie goes to account 1 and the red band
    # is empty, so the churner is never flagged.
    for figures in seats.alerts:
        assert (figures.flagged_ahead, figures.never_flagged) == (0, 1)
    assert seats.alerts[-1].budget == 0.0
    assert [(h.earlier_base, h.earlier_candidate, h.same_day, h.neither) for h in head_to_head] == [
        (0, 1, 0, 0)
    ] * 4


def test_a_churner_lost_too_early_to_judge_is_not_counted() -> None:
    # Lost 60 days after the first scored Monday: no scoring date lies 90 days before it.
    renewals = pd.DataFrame({"account_id": [10], "renewal_on": [FIRST + timedelta(days=60)]})
    _, trend, head_to_head = compare_cards(
        ("watch@1", SEATS), ("watch@2", TREND), _rows(), renewals
    )
    assert {a.churners for a in trend.alerts} == {0}
    assert {a.flagged_ahead_share for a in trend.alerts} == {None}
    assert {h.churners for h in head_to_head} == {0}


def test_the_metrics_a_backtest_computes_are_those_the_cards_read() -> None:
    by_stage = load_scorecard_text(
        CARD.format(version=3, metric="nps_latest", at=9).replace(
            "  - name: everyone\n",
            "  - name: young\n    match: {tenure_days: {below: 90}, segment: [smb]}\n"
            "    measures: [{metric: champion_present, weight: 100, "
            "thresholds: [{at: 1, points: 100}]}]\n  - name: everyone\n",
        ),
        "v3",
    )
    assert metrics_read([SEATS, by_stage]) == [
        "champion_present",
        "license_utilization",
        "nps_latest",
        "tenure_days",
    ]
