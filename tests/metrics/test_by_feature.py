"""Usage by feature: the catalog's per-feature metrics, checked by hand on the metric fixture.

As of 2025-03-31: the last 4 weeks are 03-04…03-31, the 4 weeks before 02-04…03-03, weeks 9–12
before the as-of day 01-07…02-03 (see tests/metrics/fixtures.py for every event).
"""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest

from tenure.errors import NotFound
from tenure.metrics.by_feature import (
    CatalogFeature,
    feature_metrics,
    feature_slug,
    find_metric,
    safe_key,
)
from tests.metrics.conftest import compute_on
from tests.metrics.fixtures import EVENTS, ts

NO_DATA = None
# (account, feature) → events, days, user share, change over 4 weeks, change over 12 weeks,
# uses since first seen, uses per active month (acme active in 4 calendar months: 2024-12,
# 2025-01, 02, 03; dyna in 2: 02 and 03; bolt never)
EXPECTED = {
    # u1 twice on 03-31, u2 03-25, u3 03-04 (3 days; 3 of the 3 active users); 2 on 02-10
    # before (+100 %); 1 on 01-15 by d1 naming acme in weeks 9–12 (+300 %); 8 since first
    # seen with u1's on 2024-12-01, before the 90-day detail window
    ("acme", "report"): (4, 3, 1.0, 1.0, 3.0, 8, 8 / 4),
    # u1 03-30, u2 03-10, anonymous 03-15: 2 of 3 users; u4 at 03-03 23:59 before; none in 9–12
    ("acme", "export"): (3, 3, 2 / 3, 2.0, NO_DATA, 4, 4 / 4),
    # nothing lately; u1 03-02 and u5 02-20 before: -100 %
    ("acme", "alerts"): (0, 0, 0.0, -1.0, NO_DATA, 2, 2 / 4),
    # through contact d1: report on 03-28, d1 the only active user
    ("dyna", "report"): (1, 1, 1.0, NO_DATA, NO_DATA, 1, 1 / 2),
    # d1's alerts on 02-01 fall in weeks 9–12: -100 % over 12 weeks
    ("dyna", "alerts"): (0, 0, 0.0, NO_DATA, -1.0, 1, 1 / 2),
    # nobody active: no share; counts are 0
    ("bolt", "report"): (0, 0, NO_DATA, NO_DATA, NO_DATA, 0, NO_DATA),
}
STATS = (
    "events_28d",
    "days_28d",
    "user_share_28d",
    "change_4w",
    "change_12w",
    "lifetime",
    "per_month",
)


def test_every_catalog_feature_gets_the_seven_metrics_computed_as_by_hand() -> None:
    frame = compute_on(ibis.duckdb.connect()).set_index("account_external_id")
    for (account, feature), values in EXPECTED.items():
        for stat, expected in zip(STATS, values, strict=True):
            actual = frame.loc[account, feature_slug(feature, stat)]
            where = f"{account} {feature} {stat}: {actual!r}"
            if expected is None:
                assert pd.isna(actual), where
            else:
                assert math.isclose(float(actual), expected, rel_tol=1e-9), where


def test_lifetime_uses_count_events_before_the_detail_window() -> None:
    """Guards the by-hand figures: acme's report of 2024-12-01, 120 days before the as-of day,
    is one of its 8 uses since first seen (and not of its uses in the windows)."""
    without = [e for e in EVENTS if e["timestamp"] != ts(2024, 12, 1, 9)]
    frame = compute_on(ibis.duckdb.connect(), events=without).set_index("account_external_id")
    assert frame.loc["acme", feature_slug("report", "lifetime")] == 7
    assert frame.loc["acme", feature_slug("report", "per_month")] == 7 / 3
    assert frame.loc["acme", feature_slug("report", "events_28d")] == 4


def test_names_come_from_the_catalog_and_slugs_are_safe_column_names() -> None:
    catalog = [
        CatalogFeature("report.created", "Reports"),
        CatalogFeature("Report Created!", "Reports (old name)"),
        CatalogFeature("x" * 80, "A very long event name"),
    ]
    metrics = feature_metrics(catalog)
    slugs = [m.slug for m in metrics]
    assert len(set(slugs)) == len(slugs) == 21
    assert all(len(s) <= 63 and s.replace("_", "").isalnum() and s == s.lower() for s in slugs)
    assert "Reports: share of active users (month)" in [m.name for m in metrics]
    # Made safe, a key carries a hash of itself, so two keys never meet in one column.
    assert safe_key("report.created") != safe_key("Report Created!")
    assert safe_key("export") == "export"
    assert find_metric(feature_slug("report.created", "days_28d"), catalog).name == (
        "Reports: days used (month)"
    )
    with pytest.raises(NotFound, match="no feature of the catalog"):
        find_metric("feature__nothing__events_28d", catalog)
