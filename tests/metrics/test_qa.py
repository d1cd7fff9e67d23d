"""The QA report flags what a broken source looks like: empty and constant metrics."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tenure.metrics.qa import qa_report
from tenure.metrics.registry import get_metric

SLUGS = ["nps_latest", "champion_present", "arr", "arr_currency", "active_users_28d"]


def test_flags_empty_constant_and_mostly_empty() -> None:
    accounts = 20
    frame = pd.DataFrame(
        {
            # nobody answered a survey: empty
            "nps_latest": [None] * accounts,
            # every account "has a champion": constant (a mapping that sets every role?)
            "champion_present": [1] * accounts,
            # one account in 20 has a value: 5 % < 10 % → mostly empty
            "arr": [1000.0] + [None] * (accounts - 1),
            # text metric, varied
            "arr_currency": ["USD", "EUR"] * (accounts // 2),
            # 0, 1, …, 19: fine
            "active_users_28d": list(range(accounts)),
        }
    )
    report = qa_report(frame, [get_metric(s) for s in SLUGS], date(2025, 3, 31))
    by_slug = {m.slug: m for m in report.metrics}
    assert by_slug["nps_latest"].flags == ["empty"]
    assert by_slug["champion_present"].flags == ["constant"]
    assert by_slug["arr"].flags == ["mostly_empty"]
    assert by_slug["arr_currency"].flags == [] and by_slug["arr_currency"].mean is None
    users = by_slug["active_users_28d"]
    assert users.flags == [] and users.mean == 9.5 and users.maximum == 19  # mean of 0…19
    assert [m.slug for m in report.flagged] == ["nps_latest", "champion_present", "arr"]
