"""Finance's exchange-rate table (``date,currency,rate``: one unit of the currency in the
reporting currency), monthly from before the oldest customer to the data's day — a base that
started before Tenure was installed has figures to convert from its first year.

The rates drift ±4 % around the configured one on a three-year cycle: enough for converted KPIs
to move with the rate, never random (the same seed writes the same file). The exports hand the
table over as a file (``exports/finance.py``); the direct load stores the same text.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date

from tenure.simulate.calendar import add_months_to_date
from tenure.simulate.config import SimulationConfig

DRIFT = 0.04
CYCLE_MONTHS = 36


def monthly_rates(config: SimulationConfig) -> list[tuple[date, str, float]]:
    """(first of the month, currency, rate) for every region currency but the reporting one."""
    currencies = sorted({r.currency for r in config.regions.values()} - {config.reporting_currency})
    months_back = config.months + config.base.max_age_months
    first = add_months_to_date(config.as_of.replace(day=1), -months_back)
    rows = []
    for k in range(months_back + 1):
        day = add_months_to_date(first, k)
        for currency in currencies:
            if currency in config.exchange_rates:
                swing = 1 + DRIFT * math.sin(2 * math.pi * k / CYCLE_MONTHS)
                rows.append((day, currency, round(config.exchange_rates[currency] * swing, 6)))
    return rows


def rates_csv(config: SimulationConfig) -> str | None:
    """The table as finance's file reads (None when every region pays in the reporting currency
    or no rate is configured): the exports write it, the direct load stores the same text."""
    rows = monthly_rates(config)
    if not rows:
        return None
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["date", "currency", "rate"])
    writer.writerows((day.isoformat(), currency, f"{rate:g}") for day, currency, rate in rows)
    return text.getvalue()
