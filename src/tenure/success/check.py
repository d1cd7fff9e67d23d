"""The framework sanity report: does every framework output mean something on this base?

A framework can be right in isolation and still say nothing on a live base, when its inputs never
reach it (issue 18). This module turns the outputs gathered across a portfolio into:

- a **distribution** per output (stage counts, bands, booleans, gaps), "not enough data" counted
  apart from "no";
- a **flag** on an output that is *constant* (one value across at least ``MIN_POPULATION``
  accounts) or *empty* (no account has a value);
- **impossible** findings: outputs that contradict the data they came from (a milestone late by
  more than the account's age, Land after Renew …), counted with a few example accounts.

[default] The thresholds (``MIN_POPULATION``, the example count) are Tenure's; what counts as
impossible is listed where each check is gathered (``check_service``).

>>> d = distribution("value", "stage", ["undeveloped"] * 30)
>>> d.flag
'constant'
>>> distribution("nirvana", "buys_more", [None, None]).flag
'empty'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Literal

from pydantic import BaseModel

# Below this many accounts a single value is not suspicious: a five-account base may agree.
MIN_POPULATION = 20
EXAMPLES = 5
NOT_ENOUGH_DATA = "not enough data"

Flag = Literal["constant", "empty"]


class OutputDistribution(BaseModel):
    framework: str
    output: str
    # Value label → accounts; "not enough data" is its own label, never folded into "no".
    counts: dict[str, int]
    total: int
    flag: Flag | None


class Impossible(BaseModel):
    framework: str
    check: str
    count: int
    examples: list[str]


class Agreement(BaseModel):
    """One framework output against the simulator's truth (evaluation code fills it)."""

    framework: str
    output: str
    truth: str
    compared: int
    agreement: float | None
    # Output label → truth label → accounts.
    table: dict[str, dict[str, int]]
    note: str


class BaseCheck(BaseModel):
    name: str
    as_of: date
    accounts: int
    outputs: list[OutputDistribution]
    impossible: list[Impossible]
    agreement: list[Agreement] = []

    @property
    def flags(self) -> list[str]:
        """Every flag as one line: ``framework.output: constant`` or ``…: impossible (n)``."""
        lines = [f"{o.framework}.{o.output}: {o.flag}" for o in self.outputs if o.flag]
        lines += [
            f"{i.framework}.{i.check}: impossible ({i.count})" for i in self.impossible if i.count
        ]
        return lines


class FrameworkCheck(BaseModel):
    bases: list[BaseCheck]
    flags: dict[str, list[str]]


def label(value: object) -> str:
    """How a value is counted: None is "not enough data", booleans read yes/no."""
    if value is None:
        return NOT_ENOUGH_DATA
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def distribution(
    framework: str, output: str, values: Iterable[object], min_population: int = MIN_POPULATION
) -> OutputDistribution:
    """The counts of one output across accounts, flagged when constant or empty."""
    counts = Counter(label(v) for v in values)
    total = sum(counts.values())
    known = {k: n for k, n in counts.items() if k != NOT_ENOUGH_DATA}
    flag: Flag | None = None
    if not known:
        flag = "empty"
    elif len(counts) == 1 and total >= min_population:
        flag = "constant"
    return OutputDistribution(
        framework=framework,
        output=output,
        counts=dict(sorted(counts.items())),
        total=total,
        flag=flag,
    )


def impossible(framework: str, check: str, accounts: Iterable[str]) -> Impossible:
    """The accounts (external ids) where one impossible finding holds."""
    found = sorted(set(accounts))
    return Impossible(framework=framework, check=check, count=len(found), examples=found[:EXAMPLES])


def combine(bases: list[BaseCheck]) -> FrameworkCheck:
    return FrameworkCheck(bases=bases, flags={b.name: b.flags for b in bases})
