"""The reporting currency and the dated FX-rate table: set, import, read (CLI, API and console).

The reporting currency is the book's, kept in the database beside its rates (not a deployment
variable): every surface and every worker then converts into the same one, and changing it
leaves the rates of the old one aside rather than applying them to the new one. Until an admin
sets it, it is the currency most of the book's contracts are in (USD for an empty book): a book
in one currency then ranks and totals in it without any rate.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.accounts.fx import Converted, RateTable, convert
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import InvalidInput
from tenure.model import Contract, FxRate, ReportingCurrency, UserRole
from tenure.money import currency_code

DEFAULT_REPORTING_CURRENCY = "USD"
RATE_COLUMNS = ("date", "currency", "rate")


class FxRateRead(BaseModel):
    rate_on: date = Field(description="The rate's date")
    currency: str
    rate: float = Field(description="Units of the reporting currency per one unit of currency")


class FxRates(BaseModel):
    reporting_currency: str
    rates: list[FxRateRead]


class FxImportReport(BaseModel):
    reporting_currency: str
    rows: int
    added: int
    changed: int
    unchanged: int
    currencies: list[str]
    first_day: date | None
    last_day: date | None


def reporting_currency_expression() -> sa.ScalarSelect[str]:
    """The reporting currency as SQL: the one set, else the book's most common contract
    currency, else USD (an uncorrelated scalar: computed once per statement)."""
    most_common = (
        sa.select(Contract.currency)
        .group_by(Contract.currency)
        .order_by(sa.func.count().desc(), Contract.currency)
        .limit(1)
        .scalar_subquery()
    )
    chosen = sa.select(ReportingCurrency.currency).limit(1).scalar_subquery()
    return sa.select(
        sa.func.coalesce(chosen, most_common, DEFAULT_REPORTING_CURRENCY)
    ).scalar_subquery()


def reporting_currency(session: Session) -> str:
    return str(session.scalar(sa.select(reporting_currency_expression())))


def rate_expression(
    currency: Any, day: date, reporting_currency: str | None = None
) -> sa.ColumnElement[Any]:
    """SQL for the rate of ``currency`` (a column) into the reporting currency on ``day``:
    1 for the reporting currency, the latest rate on or before ``day``, else NULL (missing).
    ``reporting_currency``: the one a rate table read this request says (the statement then
    does not count the book's contract currencies again, twice)."""
    reporting: Any = (
        sa.literal(reporting_currency)
        if reporting_currency is not None
        else reporting_currency_expression()
    )
    latest = (
        sa.select(FxRate.rate)
        .where(
            FxRate.reporting_currency == reporting,
            FxRate.currency == currency,
            FxRate.rate_on <= day,
        )
        .order_by(FxRate.rate_on.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.case((currency == reporting, sa.literal(1.0)), else_=latest)


def set_reporting_currency(session: Session, currency: str, actor: Actor) -> str:
    """Make ``currency`` the one figures are converted into (admins)."""
    require_role(actor.user, UserRole.admin)
    code = currency_code(currency)
    before = _choose_currency(session, code)
    audit.record(
        session,
        actor,
        "reporting_currency.set",
        "reporting_currency",
        None,
        before={"currency": before},
        after={"currency": code},
    )
    return code


def _choose_currency(session: Session, code: str) -> str:
    """Store ``code`` as the reporting currency; the one before."""
    row = session.scalar(sa.select(ReportingCurrency).limit(1))
    before = row.currency if row else DEFAULT_REPORTING_CURRENCY
    if row is None:
        session.add(ReportingCurrency(currency=code))
    else:
        row.currency = code
    session.flush()
    return before


def rate_table(session: Session, on: date | None = None) -> RateTable:
    """Every rate into the current reporting currency; with ``on``, only each currency's latest
    on or before that day (what converting that day's figures needs)."""
    reporting = reporting_currency(session)
    found: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    query = sa.select(FxRate.currency, FxRate.rate_on, FxRate.rate).where(
        FxRate.reporting_currency == reporting
    )
    if on is not None:
        latest = (
            sa.select(FxRate.currency, sa.func.max(FxRate.rate_on).label("rate_on"))
            .where(FxRate.reporting_currency == reporting, FxRate.rate_on <= on)
            .group_by(FxRate.currency)
            .subquery()
        )
        query = query.join(
            latest,
            sa.and_(latest.c.currency == FxRate.currency, latest.c.rate_on == FxRate.rate_on),
        )
    rows = session.execute(query.order_by(FxRate.currency, FxRate.rate_on))
    for currency, rate_on, rate in rows:
        found[currency].append((rate_on, Decimal(str(rate))))
    return RateTable(reporting, dict(found))


def converted(session: Session, amounts: dict[str, float], day: date) -> Converted:
    return convert(amounts, rate_table(session, on=day), day)


def list_rates(session: Session, currency: str | None = None) -> FxRates:
    table = rate_table(session)
    wanted = [currency_code(currency)] if currency else sorted(table.rates)
    rates = [
        FxRateRead(rate_on=day, currency=code, rate=float(rate))
        for code in wanted
        for day, rate in table.rates.get(code, ())
    ]
    return FxRates(reporting_currency=table.reporting_currency, rates=rates)


def _problem(line: int, column: str, value: object, reason: str) -> dict[str, object]:
    return {"line": line, "column": column, "value": value, "reason": reason}


def parse_rates(text: str, reporting: str) -> dict[tuple[str, date], Decimal]:
    """``date,currency,rate`` rows (a header first) as {(currency, date): rate}; every bad cell
    is reported with its line and column and the whole file refused."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if [h for h in header if h] != list(RATE_COLUMNS):
        raise InvalidInput(
            f"the rate file's header must be date,currency,rate (found {','.join(header)!r})"
        )
    rates: dict[tuple[str, date], Decimal] = {}
    problems: list[dict[str, object]] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != 3:
            problems.append(_problem(line, "", ",".join(cells), "expected 3 cells"))
            continue
        day_text, currency_text, rate_text = (c.strip() for c in cells)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(_problem(line, "date", day_text, "expected a date like 2026-11-30"))
            continue
        try:
            currency = currency_code(currency_text)
        except InvalidInput as error:
            problems.append(_problem(line, "currency", currency_text, error.message))
            continue
        if currency == reporting:
            reason = f"{reporting} is the reporting currency: it needs no rate"
            problems.append(_problem(line, "currency", currency_text, reason))
            continue
        try:
            rate = Decimal(rate_text)
        except InvalidOperation:
            rate = Decimal("NaN")
        if not rate.is_finite() or rate <= 0:
            problems.append(_problem(line, "rate", rate_text, "expected a number above 0"))
            continue
        if rates.get((currency, day), rate) != rate:
            reason = f"a second, different rate for {currency} on {day}"
            problems.append(_problem(line, "rate", rate_text, reason))
            continue
        rates[(currency, day)] = rate
    if problems:
        shown = "; ".join(
            f"line {p['line']} {p['column'] or 'row'} {p['value']!r}: {p['reason']}"
            for p in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidInput(
            f"{len(problems)} bad row(s) in the rate file, nothing stored — {shown}{more}",
            details=problems,
        )
    return rates


def import_rates(session: Session, text: str, actor: Actor) -> FxImportReport:
    """Store a ``date,currency,rate`` file's rates into the reporting currency (admins): new
    dates added, a date already on file takes the file's rate."""
    require_role(actor.user, UserRole.admin)
    report = _store_rates(session, text)
    after = report.model_dump(mode="json")
    audit.record(session, actor, "fx_rates.imported", "fx_rate", None, after=after)
    return report


def load_company_rates(session: Session, reporting: str, text: str) -> FxImportReport:
    """A book's reporting currency and rate file stored as it is built, before it has any user
    (the simulator's direct load: the rates its exports hand over, stored the same way)."""
    _choose_currency(session, currency_code(reporting))
    return _store_rates(session, text)


def _store_rates(session: Session, text: str) -> FxImportReport:
    reporting = reporting_currency(session)
    rates = parse_rates(text, reporting)
    stored = {
        (row.currency, row.rate_on): row
        for row in session.scalars(
            sa.select(FxRate).where(
                FxRate.reporting_currency == reporting,
                FxRate.currency.in_({currency for currency, _ in rates}),
            )
        )
    }
    added = changed = 0
    for (currency, day), rate in rates.items():
        row = stored.get((currency, day))
        if row is None:
            row = FxRate(reporting_currency=reporting, currency=currency, rate_on=day, rate=rate)
            session.add(row)
            added += 1
        elif Decimal(str(row.rate)) != rate:
            row.rate = rate
            changed += 1
    session.flush()
    days = [day for _, day in rates]
    return FxImportReport(
        reporting_currency=reporting,
        rows=len(rates),
        added=added,
        changed=changed,
        unchanged=len(rates) - added - changed,
        currencies=sorted({currency for currency, _ in rates}),
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
    )
