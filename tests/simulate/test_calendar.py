"""Month arithmetic for contract terms, checked against dates worked out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np

from tenure.simulate.calendar import Calendar, add_months_to_date
from tenure.simulate.records import ranges


def test_add_months_keeps_the_day_or_clips_to_the_month_end() -> None:
    assert add_months_to_date(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months_to_date(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months_to_date(date(2026, 11, 1), -18) == date(2025, 5, 1)
    assert add_months_to_date(date(2025, 3, 15), 12) == date(2026, 3, 15)


def test_an_annual_term_ends_the_day_before_its_anniversary() -> None:
    calendar = Calendar.ending(date(2026, 11, 1), 18)
    start = np.array([(date(2025, 3, 15) - calendar.start).days])
    end = calendar.term_end(start, np.array([12]))
    assert calendar.date(int(end[0])) == date(2026, 3, 14)
    assert calendar.n_days == 549


def test_ranges_concatenates_aranges() -> None:
    got = ranges(np.array([10, 20, 30]), np.array([2, 0, 3]))
    assert got.tolist() == [10, 11, 30, 31, 32]
