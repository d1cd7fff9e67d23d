"""Figures and comparisons in the words a CS team reads on screen, one function per concept, so
every page, e-mail and export says a share, a chance and a limit the same way.

>>> percent(0.42), percent(-0.5, signed=True), percent(None)
('42 %', '-50 %', '—')
>>> chance(0.004), chance(0.45), chance(0.0)
('under 1 %', '45 %', '0 %')
>>> compared(">=", "30 days"), compared("≤", "14"), compared("lt", "40 %")
('at least 30 days', 'at most 14', 'under 40 %')
>>> measure_text("Champion present", "yes", 36, 80)
'Champion present: yes (36 of 80 points)'
>>> yes_no(True), yes_no(None)
('yes', 'not known')
"""

from __future__ import annotations

# A comparison as people say it, whatever spelling a rule, a scorecard or a reason stored.
COMPARISONS = {
    "<": "under",
    "lt": "under",
    "<=": "at most",
    "≤": "at most",
    "lte": "at most",
    ">": "over",
    "gt": "over",
    ">=": "at least",
    "≥": "at least",
    "gte": "at least",
    "!=": "not",
    "≠": "not",
    "ne": "not",
    "in": "one of",
    "not in": "none of",
    "not_in": "none of",
}


def percent(share: float | None, *, signed: bool = False) -> str:
    """A share (0.42) as a percent with its sign and a space before the unit: ``42 %``."""
    if share is None or share != share:
        return "—"
    return f"{share * 100:+.0f} %" if signed else f"{share * 100:.0f} %"


def chance(probability: float) -> str:
    """A probability as a CSM reads it: ``under 1 %`` rather than a misleading ``0 %``."""
    if 0 < probability < 0.005:
        return "under 1 %"
    return percent(probability)


def compared(op: str, limit: str) -> str:
    """A limit with its comparison in words: ``at least 30 days``, not ``≥ 30 days``."""
    return f"{COMPARISONS.get(op, op)} {limit}"


def measure_text(name: object, shown: object, points: object, max_points: object) -> str:
    """A health measure and the points it earned: ``Tickets: 3 (10 of 40 points)``."""
    return f"{name}: {shown} ({points} of {max_points} points)"


def yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not known"}[value]
