"""Metric QA: flag metrics that are empty or constant across accounts — usually a broken source
(no events attributed, a feature catalog without release dates, surveys never imported) rather
than a fact about customers.

Pure: takes the wide per-account frame :func:`tenure.metrics.compute.compute_metrics` returns.

    report = qa_report(frame, all_metrics(), as_of)
    [m.slug for m in report.flagged]   # ['nps_trend', ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from tenure.metrics.registry import Metric
from tenure.metrics.schemas import MetricQAReport, MetricQuality

MOSTLY_EMPTY_SHARE = 0.10


def metric_quality(metric: Metric, values: pd.Series) -> MetricQuality:
    present = values.dropna()
    accounts, with_value = len(values), len(present)
    distinct = int(present.nunique())
    flags: list[str] = []
    if accounts and not with_value:
        flags.append("empty")
    elif accounts > 1 and distinct == 1 and with_value > 1:
        flags.append("constant")
    if with_value and with_value < MOSTLY_EMPTY_SHARE * accounts:
        flags.append("mostly_empty")
    numeric = metric.unit.is_numeric and with_value > 0
    number = pd.to_numeric(present) if numeric else None
    return MetricQuality(
        slug=metric.slug,
        name=metric.name,
        accounts=accounts,
        with_value=with_value,
        distinct=distinct,
        minimum=float(number.min()) if number is not None else None,
        maximum=float(number.max()) if number is not None else None,
        mean=float(number.mean()) if number is not None else None,
        flags=flags,
    )


def qa_report(frame: pd.DataFrame, metrics: Sequence[Metric], as_of: date) -> MetricQAReport:
    """One :class:`MetricQuality` per metric present in ``frame``."""
    return MetricQAReport(
        as_of=as_of,
        accounts=len(frame),
        metrics=[metric_quality(m, frame[m.slug]) for m in metrics if m.slug in frame.columns],
    )
