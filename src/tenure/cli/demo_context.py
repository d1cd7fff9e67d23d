"""What the demo's steps share: the settings, the as-of date and the figures shown so far."""

from __future__ import annotations

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
