"""Moments and days: every stored time is UTC, and a day ends at the next midnight UTC.

SQLite keeps no time zone, so a timestamp read back from it is naive; it was stored in UTC.
PostgreSQL hands back aware values. :func:`utc` makes both the same, so comparisons and
day arithmetic never depend on the backend.

>>> utc(datetime(2026, 3, 1, 23, 30))
datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.timezone.utc)
>>> utc_day(datetime.fromisoformat("2026-03-01T23:30:00-02:00"))
datetime.date(2026, 3, 2)
>>> end_of(date(2026, 3, 1))
datetime.datetime(2026, 3, 2, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tenure.errors import InvalidInput


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day ``moment`` falls on."""
    return utc(moment).date()


def end_of(day: date) -> datetime:
    """The first instant after ``day`` (UTC): whatever happened before it is known on ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def parse_day(text: str, name: str = "--as-of") -> date:
    """A day written YYYY-MM-DD, or an error that names the option and the value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} {text!r} is not a date (YYYY-MM-DD)") from None
