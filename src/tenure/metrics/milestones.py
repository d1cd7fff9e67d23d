"""Milestones: how far the account has come along its success plan.

Milestones count once their plan has started (``success_plan.started_on <= D``); a milestone is
reached on D when ``reached_on <= D`` and overdue when it is not reached and ``due_on < D``
(due on the as-of day itself is not late yet).
"""

from __future__ import annotations

import ibis

from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Unit, metric


def planned_milestones(inputs: MetricInputs) -> ibis.Table:
    milestones = inputs.snapshot.milestones
    return milestones.filter(milestones.plan_started_on <= inputs.as_of_literal())


@metric(
    "milestone_progress",
    "Milestone progress",
    Unit.share,
    description=(
        "Share of the success plan's milestones reached by the as-of day. No data without a "
        "started success plan."
    ),
)
def milestone_progress(inputs: MetricInputs) -> ibis.Table:
    planned = planned_milestones(inputs)
    reached = planned.reached_on.notnull() & (planned.reached_on <= inputs.as_of_literal())
    return planned.group_by("account_id").aggregate(
        value=ibis.ifelse(reached, 1, 0).sum().cast("float64") / planned.count()
    )


@metric(
    "milestones_overdue",
    "Overdue milestones",
    Unit.number,
    default=0,
    description="Success-plan milestones past their due day and not reached by the as-of day.",
)
def milestones_overdue(inputs: MetricInputs) -> ibis.Table:
    planned = planned_milestones(inputs)
    day = inputs.as_of_literal()
    late = planned.filter(
        planned.due_on < day, planned.reached_on.isnull() | (planned.reached_on > day)
    )
    return late.group_by("account_id").aggregate(value=late.count())
