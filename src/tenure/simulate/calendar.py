"""Simulation days ↔ calendar dates: day 0 is the first simulated day, ``as_of`` is day ``n_days``.

Contracts run on calendar months (an annual term signed on 15 March ends on 14 March), so month
arithmetic works on numpy ``datetime64[D]`` arrays, clipping the day of month at the month's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def add_months_to_date(day: date, months: int) -> date:
    return date.fromisoformat(str(add_months(np.array([np.datetime64(day, "D")]), months)[0]))


def add_months(
    days: npt.NDArray[np.datetime64], months: int | IntArray
) -> npt.NDArray[np.datetime64]:
    """Add whole months to dates, keeping the day of month where the target month has it."""
    month = days.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months)
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)


@dataclass(frozen=True)
class Calendar:
    start: date
    as_of: date

    @classmethod
    def ending(cls, as_of: date, months: int) -> Calendar:
        return cls(add_months_to_date(as_of, -months), as_of)

    @property
    def n_days(self) -> int:
        return (self.as_of - self.start).days

    @property
    def start64(self) -> np.datetime64:
        return np.datetime64(self.start, "D")

    def date(self, day: int) -> date:
        return self.start + timedelta(days=int(day))

    def dates(self, days: IntArray) -> npt.NDArray[np.datetime64]:
        return self.start64 + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")

    def days(self, dates: npt.NDArray[np.datetime64]) -> IntArray:
        return (dates - self.start64).astype(np.int64)

    def term_end(self, start_days: IntArray, months: IntArray) -> IntArray:
        """Last day (inclusive) of terms of ``months`` starting on ``start_days``."""
        return self.days(add_months(self.dates(start_days), months)) - 1

    def weekday(self, day: int) -> int:
        return self.date(day).weekday()

    def month_index(self, day: int) -> int:
        return self.date(day).month - 1
