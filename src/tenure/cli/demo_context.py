"""What the demo's steps share: the settings, the as-of date and the figures shown so far."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `tenure --help` loads no pydantic
    from tenure.config import Settings


@dataclass
class DemoContext:
    settings: Settings
    # Preset overrides (accounts, months); empty runs the demo preset as it is.
    overrides: dict[str, Any] = field(default_factory=dict)
    # The dirt the exports carry (tenure.simulate.exports.Dirt.parse): all by default.
    dirt: str = "all"
    as_of: date | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    title: str
    run: Callable[[DemoContext], None]


def cpu_seconds() -> float:
    """User + system CPU of this process and of the children it has waited for (the loopback
    server the replay starts): on shared cores, what a step cost whatever the load."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True)
class StepTime:
    """One step's wall and CPU seconds, with the 1-minute load average when it ended."""

    number: int
    title: str
    seconds: float
    cpu_seconds: float
    load_average: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "load_average": round(self.load_average, 2),
        }


def run_timed(number: int, step: DemoStep, ctx: DemoContext) -> StepTime:
    """Run ``step``, measuring its wall clock and CPU."""
    started, cpu = time.perf_counter(), cpu_seconds()
    step.run(ctx)
    return StepTime(
        number,
        step.title,
        time.perf_counter() - started,
        cpu_seconds() - cpu,
        os.getloadavg()[0],
    )
