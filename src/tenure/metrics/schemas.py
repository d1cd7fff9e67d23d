"""The shapes metric surfaces exchange (CLI --json, API, console): one model, three renderings."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from tenure.metrics.registry import Metric


class MetricDefinition(BaseModel):
    slug: str
    name: str
    unit: str
    concept: str
    description: str

    @classmethod
    def of(cls, metric: Metric) -> MetricDefinition:
        return cls(
            slug=metric.slug,
            name=metric.name,
            unit=metric.unit.value,
            concept=metric.concept,
            description=metric.description,
        )


class MetricQuality(BaseModel):
    """How one metric looks across accounts, and what is suspicious about it."""

    slug: str
    name: str
    accounts: int
    with_value: int
    distinct: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    # "empty": no account has a value · "constant": every value is the same ·
    # "mostly_empty": fewer than 10 % of accounts have a value
    flags: list[str]


class MetricQAReport(BaseModel):
    as_of: date
    accounts: int
    metrics: list[MetricQuality]

    @property
    def flagged(self) -> list[MetricQuality]:
        return [m for m in self.metrics if m.flags]


class MetricRun(BaseModel):
    """What `tenure metrics compute` did."""

    as_of: date
    accounts: int
    metrics: int
    seconds: float
    qa: MetricQAReport
    rows: list[dict[str, float | str | int | None]]


class MetricDay(BaseModel):
    as_of: date
    accounts: int


class MetricRangeRun(BaseModel):
    """What `tenure metrics compute --from --to --every` did: every date stored from one pass."""

    first: date
    last: date
    every_days: int
    metrics: int
    seconds: float
    days: list[MetricDay]
    # The last date's QA: a broken source shows there as on any single day.
    qa: MetricQAReport
