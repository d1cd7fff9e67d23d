"""Sentiment: what the customer says about us in surveys.

Responses count once ``responded_at`` is before the cutoff. "Latest" orders an account's NPS answers
by ``responded_at`` (then by id, so ties resolve the same way on every backend).
"""

from __future__ import annotations

import ibis

from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric


def ranked_nps(inputs: MetricInputs) -> ibis.Table:
    """NPS answers known by the cutoff, ``rank`` 0 = the account's latest."""
    surveys = inputs.snapshot.surveys
    known = surveys.filter(surveys.kind == "nps", surveys.responded_at < inputs.cutoff)
    order = ibis.window(
        group_by=known.account_id, order_by=[known.responded_at.desc(), known.id.desc()]
    )
    return known.mutate(rank=ibis.row_number().over(order))


@metric(
    "nps_latest",
    "Latest NPS answer",
    Unit.score,
    description="The account's most recent NPS answer (0–10). No data before the first answer.",
)
def nps_latest(inputs: MetricInputs) -> ibis.Table:
    ranked = ranked_nps(inputs)
    latest = ranked.filter(ranked["rank"] == 0)
    return latest.select("account_id", value=latest.score)


@metric(
    "nps_trend",
    "NPS trend",
    Unit.score,
    description=(
        "The latest NPS answer minus the one before it (any contact of the account): positive "
        "when sentiment improves. No data with fewer than two answers."
    ),
)
def nps_trend(inputs: MetricInputs) -> ibis.Table:
    ranked = ranked_nps(inputs)
    last_two = ranked.filter(ranked["rank"] <= 1)
    signed = ibis.ifelse(last_two["rank"] == 0, last_two.score, -last_two.score)
    trend = last_two.group_by("account_id").aggregate(value=signed.sum(), answers=last_two.count())
    return trend.filter(trend.answers == 2).select("account_id", "value")
