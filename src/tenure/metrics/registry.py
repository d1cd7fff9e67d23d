"""The metric registry: every metric is one object — slug, display name, unit, definition and a
function that builds ONE Ibis expression from the inputs.

The CLI (`tenure metrics list/compute/qa`), the API, the QA report and the health scorecard are all
driven by this list, so a metric defined here shows up everywhere at once.

Definitions live in one module per concept (``usage``, ``relationships``, ``sentiment``,
``support``, ``milestones``, ``commercial``) and register themselves with the ``@metric``
decorator::

    @metric("active_users_28d", "Active users (28 days)", Unit.number, default=0,
            description="Distinct known users with at least one event in the trailing 28 days.")
    def active_users_28d(inputs: MetricInputs) -> ibis.Table:
        return active_users(inputs, 28)

A build function returns a table with exactly two columns, ``account_id`` (the internal account id)
and ``value``, at most one row per account. A definition registered ``over_dates=True`` groups by
``inputs.keys`` instead, so the same expression also yields one row per (account, as-of date) when
many dates are computed at once (:mod:`tenure.metrics.over_dates`). Accounts missing from it get
the metric's ``default`` (``0`` for counts and yes/no flags, null where "no data" must stay
distinguishable from zero).

See :mod:`tenure.metrics.inputs` for the as-of semantics every definition follows.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import ibis

from tenure.errors import NotFound
from tenure.metrics.inputs import MetricInputs
from tenure.words import percent

CONCEPT_MODULES = (
    "usage",
    "relationships",
    "sentiment",
    "support",
    "milestones",
    "commercial",
)


class Unit(enum.StrEnum):
    number = "number"
    # A share between 0 and 1, displayed as a percentage.
    share = "share"
    # A relative change: 0.25 means +25 %.
    change = "change"
    days = "days"
    # 1 = yes, 0 = no (numeric so scorecards and models read it like any other metric).
    flag = "flag"
    # An NPS answer (0–10) or a difference of two answers.
    score = "score"
    money = "money"
    # ISO 4217 currency code: the only text-valued unit (ARR is never summed across currencies).
    currency_code = "currency_code"

    @property
    def is_numeric(self) -> bool:
        return self is not Unit.currency_code


Build = Callable[[MetricInputs], ibis.Table]


@dataclass(frozen=True, eq=False)
class Family:
    """Metrics computed together in one query: ``build`` returns the keys and one column per
    member's slug (the per-feature usage of a catalog: one grouped pass, not one per feature)."""

    name: str
    build: Build


@dataclass(frozen=True)
class Metric:
    slug: str
    name: str
    unit: Unit
    description: str
    concept: str
    build: Build
    default: float | None = None
    # The build reads activity windows through ``inputs.activity_in`` and groups by
    # ``inputs.keys`` only, so it can run for many as-of dates in one query.
    over_dates: bool = False
    # Computed with the other members of its family in one query (see :class:`Family`).
    family: Family | None = None

    def expression(self, inputs: MetricInputs) -> ibis.Table:
        """The metric as ``(account_id, <slug>)`` rows, one per account that has a value
        (``(account_id, as_of, <slug>)`` over many dates)."""
        if self.family is not None:
            return self.family.build(inputs).select(*inputs.keys, self.slug)
        table = self.build(inputs)
        return table.select(*inputs.keys, **{self.slug: table.value})

    def format(self, value: object) -> str:
        """The value as a person reads it (``42 %``, ``12 days``, ``yes``); ``—`` for no data."""
        return format_value(self.unit, value)


def format_value(unit: Unit, value: object) -> str:
    """``value`` in ``unit`` as a person reads it; ``—`` for no data.

    >>> format_value(Unit.share, 0.42), format_value(Unit.change, -0.5), format_value(Unit.days, 3)
    ('42 %', '-50 %', '3 days')
    >>> format_value(Unit.number, 25908), format_value(Unit.number, 1234.5)
    ('25,908', '1,234.50')
    """
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if unit is Unit.currency_code:
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if unit is Unit.share:
        return percent(number)
    if unit is Unit.change:
        return percent(number, signed=True)
    if unit is Unit.flag:
        return "yes" if number >= 1 else "no"
    if unit is Unit.days:
        return f"{number:.0f} days"
    if unit is Unit.money:
        return f"{number:,.0f}"
    # Thousands grouped as every page prints figures ("Events since first seen = 25,908").
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.2f}"


_REGISTRY: dict[str, Metric] = {}


def metric(
    slug: str,
    name: str,
    unit: Unit,
    *,
    description: str,
    default: float | None = None,
    over_dates: bool = False,
) -> Callable[[Build], Build]:
    """Register the decorated build function as a metric (its module name is its concept)."""

    def register(build: Build) -> Build:
        if slug in _REGISTRY:
            raise ValueError(f"metric {slug!r} is registered twice")
        concept = build.__module__.rsplit(".", 1)[-1]
        _REGISTRY[slug] = Metric(slug, name, unit, description, concept, build, default, over_dates)
        return build

    return register


def _load_definitions() -> None:
    for module in CONCEPT_MODULES:
        importlib.import_module(f"tenure.metrics.{module}")


def all_metrics() -> list[Metric]:
    """Every registered metric, in definition order (grouped by concept)."""
    _load_definitions()
    return sorted(_REGISTRY.values(), key=lambda m: CONCEPT_MODULES.index(m.concept))


def get_metric(slug: str) -> Metric:
    """The metric named ``slug``; NotFound lists the known slugs."""
    _load_definitions()
    try:
        return _REGISTRY[slug]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise NotFound(f"unknown metric {slug!r}; known metrics: {known}") from None
