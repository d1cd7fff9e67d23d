"""Converting figures in several currencies into the reporting currency, saying how.

A figure in two currencies is two figures until a dated rate converts it (ENGINEERING.md). The
rate of a currency on day D is the **latest rate dated on or before D** in the imported table
(rates are published for business days; a Saturday uses Friday's); its date goes with every
converted figure. A currency without such a rate is **missing**: the total is then not given at
all — a total of the currencies that happen to have rates would be a guess passed off as a sum —
and the missing codes are named. The reporting currency itself needs no rate.

Rates are ``units of the reporting currency per one unit of the currency``: with reporting
currency USD, ``2026-11-30,EUR,1.0842`` says one euro was worth 1.0842 dollars that day.

>>> table = RateTable("USD", {"EUR": [(date(2026, 11, 27), Decimal("1.05")),
...                                   (date(2026, 11, 30), Decimal("1.08"))]})
>>> c = convert({"USD": 100_000.0, "EUR": 50_000.0}, table, date(2026, 12, 1))
>>> c.amount, c.currency, c.rates[0].rate_on, c.missing
(154000.0, 'USD', datetime.date(2026, 11, 30), [])
>>> convert({"USD": 1.0, "GBP": 2.0}, table, date(2026, 12, 1)).amount is None
True
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from tenure.money import minor_unit_digits


class RateUsed(BaseModel):
    currency: str = Field(description="The currency converted")
    rate: float = Field(description="Units of the reporting currency per one unit of it")
    rate_on: date = Field(description="The date of the rate used (the latest on or before the day)")


class Converted(BaseModel):
    """A figure in the reporting currency, with the rates (and their dates) that made it."""

    amount: float | None = Field(
        description="The total in the reporting currency; null when a rate is missing"
    )
    currency: str = Field(description="The reporting currency")
    on: date = Field(description="The day converted for")
    rates: list[RateUsed] = Field(default_factory=list, description="Each rate used, with its date")
    missing: list[str] = Field(
        default_factory=list, description="Currencies with no rate on or before the day"
    )

    @property
    def rate_dates(self) -> list[date]:
        return sorted({r.rate_on for r in self.rates})

    @property
    def label(self) -> str:
        """How the figure was made, in words (its rates' dates), or why there is none."""
        if self.missing:
            return f"no {self.currency} total: no rate for {', '.join(self.missing)} by {self.on}"
        if not self.rates:
            return f"in {self.currency}, no conversion"
        days = ", ".join(day.isoformat() for day in self.rate_dates)
        return f"converted to {self.currency} at the rates of {days}"


@dataclass(frozen=True)
class RateTable:
    """Every imported rate into one reporting currency, by currency, sorted by date."""

    reporting_currency: str
    rates: Mapping[str, Sequence[tuple[date, Decimal]]] = field(default_factory=dict)

    def rate(self, currency: str, day: date) -> tuple[date, Decimal] | None:
        """The latest (date, rate) of ``currency`` on or before ``day``; None when there is none."""
        dated = self.rates.get(currency, ())
        index = bisect_right(dated, day, key=lambda pair: pair[0])
        return dated[index - 1] if index else None


def convert(amounts: Mapping[str, float], table: RateTable, day: date) -> Converted:
    """The sum of ``amounts`` (per currency) in the reporting currency on ``day`` (see module)."""
    amount, used, missing = _in_reporting_currency(amounts, table, day)
    return Converted(
        amount=amount,
        currency=table.reporting_currency,
        on=day,
        rates=[RateUsed(currency=c, rate=float(rate), rate_on=on) for c, on, rate in used],
        missing=missing,
    )


def converted_amount(amounts: Mapping[str, float], table: RateTable, day: date) -> float | None:
    """``convert(amounts, table, day).amount`` alone: to rank thousands of sums cheaply."""
    return _in_reporting_currency(amounts, table, day)[0]


def converted_figures(
    amounts: Mapping[str, float], table: RateTable, day: date
) -> tuple[float | None, list[date], list[str]]:
    """:func:`convert`'s amount, rate dates and missing currencies, without the models: for
    thousands of rows at once (the portfolio CSV)."""
    amount, used, missing = _in_reporting_currency(amounts, table, day)
    return amount, sorted({rate_on for _, rate_on, _ in used}) if used else [], missing


def _in_reporting_currency(
    amounts: Mapping[str, float], table: RateTable, day: date
) -> tuple[float | None, list[tuple[str, date, Decimal]], list[str]]:
    reporting = table.reporting_currency
    if len(amounts) == 1 and reporting in amounts:
        unchanged = _as_written(amounts[reporting], minor_unit_digits(reporting))
        if unchanged is not None:
            return unchanged, [], []
    total = Decimal(0)
    used: list[tuple[str, date, Decimal]] = []
    missing: list[str] = []
    for currency in sorted(amounts):
        if currency == reporting:
            total += Decimal(str(amounts[currency]))
            continue
        found = table.rate(currency, day)
        if found is None:
            missing.append(currency)
            continue
        rate_on, rate = found
        total += Decimal(str(amounts[currency])) * rate
        used.append((currency, rate_on, rate))
    if missing:
        return None, used, missing
    return float(round(total, minor_unit_digits(reporting))), used, missing


def _as_written(value: float, digits: int) -> float | None:
    """A figure already in the reporting currency with no more decimals than its minor unit,
    as the sum above makes it (the decimal it is written as, rounded to ``digits``: itself,
    and 0.0 for -0.0) without the Decimal arithmetic — the portfolio CSV converts thousands;
    None for any other figure (more decimals, an exponent, not a float).

    >>> _as_written(97222.76, 2), _as_written(-0.0, 2), _as_written(1234.565, 2)
    (97222.76, 0.0, None)
    """
    if not isinstance(value, float):
        return None
    _, dot, decimals = repr(value).partition(".")
    if not dot or len(decimals) > digits or "e" in decimals:
        return None
    return value + 0.0
