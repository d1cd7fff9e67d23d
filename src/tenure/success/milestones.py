"""Success plans and milestones (Lincoln Murphy): from point A to the Desired Outcome.

[pub] Success milestones are customer-centric steps — inside or outside the product — that matter
to the relationship; product-centric **functional** milestones are told apart by ``type``. Some
milestones (not all — don't force it) carry a logical **expansion** opportunity; **advocacy** asks
are timed after a strong NPS.

[default] Templates per commercial segment come from YAML (``milestones.yaml`` shipped; segments
not listed use ``default``). Status on ``as_of``: ``reached``; ``on_track`` — not reached, due date
not passed; ``behind`` — overdue by at most 30 days; ``stuck`` — overdue by more than 30 days;
``unknown`` — not marked and due before Tenure watched the account, for a milestone marked by hand
(nothing could have seen whether it happened: "not enough data", never "stuck"). A milestone
already reached on the first measured day (``baseline``) is reached *by* that day: how late is not
known, so it is never reported late.
An advocacy ask opens when its milestone is reached and the latest NPS answer is ≥ 9; an expansion
ask opens when reached. Time to first value = days from the contract start to the milestone marked
``first_value``; cohorts are the quarter of the contract start.

>>> milestone_status(date(2025, 3, 1), None, date(2025, 4, 15)).status
<MilestoneStatus.stuck: 'stuck'>
"""

from __future__ import annotations

import enum
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tenure.errors import InvalidInput
from tenure.success.rules import Outcome, Rule, evaluate, load_yaml_model

STUCK_AFTER_DAYS = 30
ADVOCACY_MIN_NPS = 9


class MilestoneType(enum.StrEnum):
    success = "success"
    functional = "functional"


class Owner(enum.StrEnum):
    customer = "customer"
    vendor = "vendor"


class AskKind(enum.StrEnum):
    expansion = "expansion"
    advocacy = "advocacy"


class MilestoneStatus(enum.StrEnum):
    reached = "reached"
    on_track = "on_track"
    behind = "behind"
    stuck = "stuck"
    unknown = "unknown"


class MilestoneTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    name: str
    type: MilestoneType = MilestoneType.success
    owner: Owner = Owner.customer
    due_days: int = Field(ge=0)
    rule: Rule | None = None
    first_value: bool = False
    opens: AskKind | None = None


class MilestoneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    segments: dict[str, list[MilestoneTemplate]]

    def for_segment(self, segment: str | None) -> list[MilestoneTemplate]:
        return self.segments[self.plan_key(segment)]

    def plan_key(self, *segments: str | None) -> str:
        """The first of ``segments`` that has templates, else ``default``: an account's
        Appropriate Experience first, its commercial segment for files written before plans
        were segmented by experience."""
        for segment in segments:
            if segment and segment in self.segments:
                return segment
        if "default" not in self.segments:
            named = " or ".join(repr(s) for s in segments)
            raise InvalidInput(f"no milestone template for {named} and no 'default'")
        return "default"


def load_milestone_config(path: Path | None = None) -> MilestoneConfig:
    """The templates YAML at `path`, or the shipped defaults."""
    config = load_yaml_model(MilestoneConfig, path, "milestones.yaml", "milestone template")
    for segment, templates in config.segments.items():
        keys = [t.key for t in templates]
        if len(set(keys)) != len(keys):
            raise InvalidInput(
                f"{path or 'milestones.yaml'}: segment {segment!r} repeats a milestone key: {keys}"
            )
    return config


class StatusResult(BaseModel):
    status: MilestoneStatus
    reason: str
    # Days after the due date it was reached (≤ 0: on time); None when not reached or when the
    # day it was reached is not known (reached before the first measurement).
    days_late: int | None = None


def milestone_status(
    due_on: date,
    reached_on: date | None,
    as_of: date,
    *,
    reach_day_known: bool = True,
    watched_from: date | None = None,
) -> StatusResult:
    """reached / on_track / behind / stuck by due date, with the dates that decided it.

    ``reach_day_known`` is False for a milestone found reached on the first measured day (it
    happened on or before it: lateness unknown). ``watched_from`` is the first day anything could
    have seen a milestone marked by hand; one due before it and never marked is ``unknown``.
    """
    if reached_on is not None and reached_on <= as_of:
        if not reach_day_known:
            return StatusResult(
                status=MilestoneStatus.reached,
                reason=f"reached by {reached_on}, the first measured day (due {due_on}; "
                "when exactly is not known)",
            )
        late = (reached_on - due_on).days
        when = f"{late} days late" if late > 0 else "on time"
        return StatusResult(
            status=MilestoneStatus.reached,
            reason=f"reached {reached_on} ({when}; due {due_on})",
            days_late=late,
        )
    if watched_from is not None and due_on < watched_from:
        return StatusResult(
            status=MilestoneStatus.unknown,
            reason=f"due {due_on}, before Tenure watched this account ({watched_from}): not "
            "known whether it happened — mark it if it did",
        )
    overdue = (as_of - due_on).days
    if overdue <= 0:
        return StatusResult(
            status=MilestoneStatus.on_track, reason=f"due {due_on}, {-overdue} days left"
        )
    status = MilestoneStatus.behind if overdue <= STUCK_AFTER_DAYS else MilestoneStatus.stuck
    return StatusResult(
        status=status,
        reason=f"due {due_on}, {overdue} days overdue (stuck after {STUCK_AFTER_DAYS})",
    )


class Progress(BaseModel):
    key: str
    reached: bool | None  # None: marked by hand only, or no data
    reason: str


def progress_from_data(template: MilestoneTemplate, facts: Mapping[str, Any]) -> Progress:
    """Whether the data shows the milestone reached; hand-marked milestones say so."""
    if template.rule is None:
        return Progress(key=template.key, reached=None, reason="marked by hand")
    result = evaluate(template.rule, facts)
    reached = {Outcome.passed: True, Outcome.failed: False, Outcome.unknown: None}[result.outcome]
    return Progress(key=template.key, reached=reached, reason=result.reason)


class OpenedAsk(BaseModel):
    kind: AskKind
    milestone_key: str
    opened_on: date
    reason: str


def asks_on_reach(
    template: MilestoneTemplate, reached_on: date, last_nps: int | None
) -> OpenedAsk | None:
    """The expansion or advocacy ask a reached milestone opens, if any."""
    if template.opens is AskKind.expansion:
        return OpenedAsk(
            kind=AskKind.expansion,
            milestone_key=template.key,
            opened_on=reached_on,
            reason=f"{template.name!r} reached: a logical expansion moment",
        )
    if template.opens is AskKind.advocacy:
        if last_nps is None or last_nps < ADVOCACY_MIN_NPS:
            return None
        return OpenedAsk(
            kind=AskKind.advocacy,
            milestone_key=template.key,
            opened_on=reached_on,
            reason=f"{template.name!r} reached and the last NPS answer {last_nps} "
            f"(a promoter: {ADVOCACY_MIN_NPS} or more)",
        )
    return None


def plan(templates: Iterable[MilestoneTemplate], start_on: date) -> list[tuple[str, date]]:
    """Due dates of a segment's milestones for a plan starting on ``start_on``."""
    return [(t.key, start_on + timedelta(days=t.due_days)) for t in templates]


@dataclass(frozen=True)
class MilestoneTiming:
    account_id: int
    started_on: date
    reached_on: date | None


class CohortTiming(BaseModel):
    cohort: str
    accounts: int
    reached: int
    median_days: float | None
    mean_days: float | None


def cohort_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def time_to_milestone(timings: Iterable[MilestoneTiming]) -> list[CohortTiming]:
    """Per start-quarter cohort: how many reached the milestone and in how many days.

    >>> t = [MilestoneTiming(1, date(2025, 1, 1), date(2025, 1, 11)),
    ...      MilestoneTiming(2, date(2025, 2, 1), None)]
    >>> time_to_milestone(t)[0].median_days
    10.0
    """
    cohorts: dict[str, list[MilestoneTiming]] = defaultdict(list)
    for timing in timings:
        cohorts[cohort_of(timing.started_on)].append(timing)
    rows = []
    for name in sorted(cohorts):
        days = [(t.reached_on - t.started_on).days for t in cohorts[name] if t.reached_on]
        rows.append(
            CohortTiming(
                cohort=name,
                accounts=len(cohorts[name]),
                reached=len(days),
                median_days=float(statistics.median(days)) if days else None,
                mean_days=statistics.fmean(days) if days else None,
            )
        )
    return rows
