"""What every metric definition reads, and what "as of a date" means.

**As-of semantics (no look-ahead).** Metrics "as of D" describe the account at the *end* of day D
in UTC. The cutoff is ``D + 1 day, 00:00 UTC``:

- events count when ``timestamp < cutoff`` (so everything that happened on D counts);
- a trailing window of N days covers the N calendar days ``D-N+1 … D`` — "the last 28 days" of
  2025-03-31 is 2025-03-04 … 2025-03-31;
- operational rows count by their *effective* dates, never by when the record was typed in
  (history is usually imported in bulk after the fact): contacts by ``joined_on``/``left_on``,
  contracts by ``starts_on``/``ends_on``/``outcome_on``, surveys by ``responded_at``, tickets by
  ``opened_at``/``closed_at``, touchpoints by ``occurred_at``, features by ``released_on``.
  A date field counts when it is ``<= D``; a timestamp field when it is ``< cutoff``.

**Attribution.** An event belongs to the account its ``account_id`` (the groupId) names: the
account with that external id, else the one it is another id of — the product's workspace id
linked to the account (:mod:`tenure.accounts.group_ids`). An event without one (or with an id no
account has) belongs to the account of the contact whose ``external_id`` equals its ``user_id``.
Events that match none are left out of metrics and stay stored (``tenure events held``).

A definition reads :class:`MetricInputs`: the snapshot of operational tables and ``activity``, the
attributed events before the cutoff rolled up to one row per (account, user, day, event). The
roll-up keeps every usage metric off the raw events, which are read exactly once per computation.
It has full detail for the trailing ``DETAIL_DAYS`` days — no window may be longer — and one row
per account, day and event before that (user null), which is all "days since last activity" and
the lifetime totals (per account and per feature) need.

**Many dates at once.** With ``dates`` set (see :mod:`tenure.metrics.over_dates`), ``activity``
holds every day in full detail and ``activity_in`` joins each row to the as-of dates whose window
contains it, adding an ``as_of`` column: a definition that groups by ``inputs.keys`` then yields one
value per (account, as-of date) from one query. Only definitions registered ``over_dates=True``
get such inputs; the date-bound helpers (``as_of_literal``, ``first_day``, ``since``) refuse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis

from tenure.dates import end_of
from tenure.metrics.snapshot import Snapshot

# The longest trailing window any metric reads from ``activity``.
DETAIL_DAYS = 90


@dataclass(frozen=True)
class MetricInputs:
    as_of: date
    snapshot: Snapshot
    # account_id (internal), user_id (nullable), day (date), event, events (count)
    activity: ibis.Table
    # One row per as-of date (column ``as_of``) when computing many dates in one query.
    dates: ibis.Table | None = None
    # The as-of date and its cutoff as values the query reads (scalar subqueries of a one-row
    # table) instead of literals of ``as_of``: one compiled query then serves every date
    # (:mod:`tenure.metrics.over_dates`). Definitions never read ``as_of`` itself.
    as_of_value: ibis.DateValue | None = None
    cutoff_value: ibis.TimestampValue | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """What one metric value is per: the account, and the as-of date over many dates."""
        return ("account_id",) if self.dates is None else ("account_id", "as_of")

    @property
    def cutoff(self) -> datetime | ibis.TimestampValue:
        day = self._single_as_of()
        return end_of(day) if self.cutoff_value is None else self.cutoff_value

    def first_day(self, days: int) -> date | ibis.DateValue:
        """First day of the trailing ``days``-day window that ends on ``as_of``."""
        return _days_before(self._day(), days - 1)

    def since(self, days: int) -> datetime | ibis.TimestampValue:
        """First instant of the trailing ``days``-day window (for timestamp columns)."""
        return self.cutoff - timedelta(days=days)

    def within(self, stamp: ibis.TimestampValue, days: int) -> ibis.BooleanValue:
        """``stamp`` falls in the trailing ``days``-day window: from its first instant up to,
        not including, the cutoff."""
        return (stamp >= self.since(days)) & (stamp < self.cutoff)

    def activity_in(self, days: int, *, offset: int = 0) -> ibis.Table:
        """Activity rows in the ``days``-day window ending ``offset`` days before ``as_of``."""
        if days + offset > DETAIL_DAYS:
            raise ValueError(f"activity keeps detail for {DETAIL_DAYS} days, not {days + offset}")
        if self.dates is not None:
            return _activity_by_date(self.activity, self.dates, days, offset)
        last = _days_before(self._day(), offset)
        first = _days_before(last, days - 1)
        return self.activity.filter(self.activity.day.between(first, last))

    def as_of_literal(self) -> ibis.Value:
        day = self._day()
        return day if isinstance(day, ibis.Value) else ibis.literal(day, type="date")

    def _day(self) -> date | ibis.DateValue:
        day = self._single_as_of()
        return day if self.as_of_value is None else self.as_of_value

    def _single_as_of(self) -> date:
        if self.dates is not None:
            raise ValueError(
                "this metric reads one as-of date; register it without over_dates=True"
            )
        return self.as_of


def _days_before(day: date | ibis.DateValue, days: int) -> date | ibis.DateValue:
    # Ibis cannot type a zero interval: a date value minus no days is the value itself.
    return day - timedelta(days=days) if days else day


def _activity_by_date(
    activity: ibis.Table, dates: ibis.Table, days: int, offset: int
) -> ibis.Table:
    """Activity rows joined to every as-of date whose window (``days`` days ending ``offset``
    days before it) contains their day, each row repeated once per such date.

    The join is on equality with a small (as-of date, day) table — the windows spelled out
    day by day — which a hash join does far faster than a range condition on the dates."""
    back = ibis.memtable({"back": list(range(offset, offset + days))}, schema={"back": "int32"})
    # Each call has its own view of ``dates``: ibis would otherwise take two metrics' joins of
    # the same table for one relation when their results are joined together.
    each = dates.view()
    windows = each.cross_join(back).select(
        as_of=each.as_of, window_day=(each.as_of - back.back.as_interval("D")).cast("date")
    )
    joined = activity.join(windows, activity.day == windows.window_day)
    return joined.select(*activity.columns, "as_of")
