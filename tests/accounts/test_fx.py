"""The reporting currency and the FX-rate table: import, refusal naming the line, conversion
that says its rate date and never guesses a missing rate — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.accounts import fx_service
from tenure.accounts.fx import RateTable, convert
from tenure.auth.permissions import Actor
from tenure.cli.main import app
from tenure.errors import Forbidden, InvalidInput
from tenure.model import UserRole
from tenure.money import minor_unit_digits
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

CSM_EMAIL = "cleo@example.com"

RATES = (
    "date,currency,rate\r\n"
    "2026-11-27,EUR,1.05\r\n2026-11-30,EUR,1.0842\r\n2026-11-30,JPY,0.0067\r\n"
)


def admin(session: Session) -> Actor:
    return Actor(f.user(session, email="ada@example.com", role=UserRole.admin), "cli")


def test_import_then_convert_with_the_latest_rate_on_or_before_the_day(session: Session) -> None:
    report = fx_service.import_rates(session, RATES, admin(session))
    assert (report.reporting_currency, report.rows, report.added) == ("USD", 3, 3)
    assert (report.currencies, report.first_day, report.last_day) == (
        ["EUR", "JPY"],
        date(2026, 11, 27),
        date(2026, 11, 30),
    )
    # 100,000 USD + 50,000 EUR × 1.0842 + ¥240,000 × 0.0067 = 100,000 + 54,210 + 1,608
    sunday = fx_service.converted(
        session, {"USD": 100_000.0, "EUR": 50_000.0, "JPY": 240_000.0}, date(2026, 11, 29)
    )
    assert sunday.missing == ["JPY"] and sunday.amount is None  # JPY's first rate is the 30th
    assert "no rate for JPY" in sunday.label
    monday = fx_service.converted(
        session, {"USD": 100_000.0, "EUR": 50_000.0, "JPY": 240_000.0}, date(2026, 12, 1)
    )
    assert monday.amount == 155_818.0
    assert [(r.currency, r.rate_on) for r in monday.rates] == [
        ("EUR", date(2026, 11, 30)),
        ("JPY", date(2026, 11, 30)),
    ]
    assert monday.label == "converted to USD at the rates of 2026-11-30"
    friday = fx_service.converted(session, {"EUR": 50_000.0}, date(2026, 11, 28))
    assert (friday.amount, friday.rate_dates) == (52_500.0, [date(2026, 11, 27)])


def test_a_second_import_updates_a_date_and_adds_the_rest(session: Session) -> None:
    actor = admin(session)
    fx_service.import_rates(session, RATES, actor)
    again = fx_service.import_rates(
        session, "Date,Currency,Rate\n2026-11-30,EUR,1.09\n2026-12-01,eur,1.1\n", actor
    )
    assert (again.added, again.changed, again.unchanged) == (1, 1, 0)
    eur = fx_service.list_rates(session, "eur").rates
    assert [(r.rate_on, r.rate) for r in eur] == [
        (date(2026, 11, 27), 1.05),
        (date(2026, 11, 30), 1.09),
        (date(2026, 12, 1), 1.1),
    ]


def test_bad_rows_refuse_the_file_naming_line_and_column(session: Session) -> None:
    bad = (
        "date,currency,rate\n2026-11-30,EUR,1.08\n30/11/2026,GBP,1.27\n2026-11-30,ABC,1\n"
        "2026-11-30,GBP,-1\n2026-11-30,USD,1\n2026-11-30,EUR,1.09\n"
    )
    actor = admin(session)
    with pytest.raises(InvalidInput) as caught:
        fx_service.import_rates(session, bad, actor)
    assert [(d["line"], d["column"]) for d in caught.value.details or []] == [
        (3, "date"),
        (4, "currency"),
        (5, "rate"),
        (6, "currency"),
        (7, "rate"),
    ]
    assert "line 3 date '30/11/2026'" in caught.value.message
    assert "USD is the reporting currency" in str(caught.value.details)
    assert fx_service.list_rates(session).rates == []  # nothing stored
    with pytest.raises(InvalidInput, match="header must be date,currency,rate"):
        fx_service.import_rates(session, "day,ccy,fx\n", actor)


def test_reporting_currency_is_set_by_admins_and_keeps_its_own_rates(session: Session) -> None:
    actor = admin(session)
    assert fx_service.reporting_currency(session) == "USD"
    fx_service.import_rates(session, RATES, actor)
    csm = Actor(f.user(session, email="cara@example.com", role=UserRole.csm), "web")
    with pytest.raises(Forbidden):
        fx_service.set_reporting_currency(session, "EUR", csm)
    with pytest.raises(Forbidden):
        fx_service.import_rates(session, RATES, csm)
    assert fx_service.set_reporting_currency(session, " eur ", actor) == "EUR"
    # The USD rates are not EUR rates: a dollar amount now needs a rate into EUR.
    converted = fx_service.converted(session, {"USD": 10.0, "EUR": 5.0}, date(2026, 12, 1))
    assert (converted.amount, converted.missing) == (None, ["USD"])
    fx_service.import_rates(session, "date,currency,rate\n2026-11-30,USD,0.92\n", actor)
    converted = fx_service.converted(session, {"USD": 10.0, "EUR": 5.0}, date(2026, 12, 1))
    assert (converted.amount, converted.currency) == (14.2, "EUR")


def test_conversion_rounds_to_the_reporting_currencys_minor_unit() -> None:
    table = RateTable("JPY", {"USD": [(date(2026, 1, 1), Decimal("149.123"))]})
    assert convert({"USD": 10.01}, table, date(2026, 1, 2)).amount == 1493.0  # ¥1,492.72 → 1,493
    assert convert({}, table, date(2026, 1, 2)).label == "in JPY, no conversion"


def test_cli_imports_lists_and_sets(database_url: str, data_dir: Path, tmp_path: Path) -> None:
    env = {"TENURE_DATABASE_URL": database_url, "TENURE_DATA_DIR": str(data_dir)}
    rates = tmp_path / "rates.csv"
    rates.write_bytes(b"\xef\xbb\xbf" + RATES.encode())  # Excel's UTF-8 with a BOM
    runner = CliRunner()
    result = runner.invoke(app, ["fx", "import", str(rates)], env=env)
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == (
        "3 rate(s) into USD for EUR, JPY (2026-11-27 to 2026-11-30): 3 added, 0 changed, "
        "0 unchanged"
    )
    listed = runner.invoke(app, ["fx", "rates", "--currency", "JPY", "--json"], env=env)
    assert json.loads(listed.stdout) == {
        "reporting_currency": "USD",
        "rates": [{"rate_on": "2026-11-30", "currency": "JPY", "rate": 0.0067}],
    }
    rates.write_text("date,currency,rate\n2026-11-30,EUR,one\n")
    refused = runner.invoke(app, ["fx", "import", str(rates)], env=env)
    assert refused.exit_code == 1
    assert "line 2 rate 'one': expected a number above 0" in " ".join(refused.output.split())
    assert runner.invoke(app, ["fx", "currency", "eur"], env=env).exit_code == 0
    shown = runner.invoke(app, ["fx", "currency"], env=env)
    assert shown.stdout.strip() == "Reporting currency: EUR"


def test_api_imports_and_lists_rates_for_admins(console: Console) -> None:
    admin_headers = headers_for(console, "ada@example.com")
    csv_headers = {**admin_headers, "Content-Type": "text/csv"}
    posted = console.client.post("/api/v1/fx/rates", content=RATES, headers=csv_headers)
    assert posted.status_code == 200, posted.text
    assert posted.json()["added"] == 3
    listed = console.client.get("/api/v1/fx/rates?currency=EUR", headers=admin_headers).json()
    assert [r["rate"] for r in listed["rates"]] == [1.05, 1.0842]
    bad = console.client.post(
        "/api/v1/fx/rates", content="date,currency,rate\nsoon,EUR,1\n", headers=csv_headers
    )
    assert bad.status_code == 422 and "line 2 date 'soon'" in bad.json()["message"]
    put = console.client.put(
        "/api/v1/fx/reporting-currency", json={"currency": "GBP"}, headers=admin_headers
    )
    assert put.json() == {"currency": "GBP"}
    csm_headers = headers_for(console, CSM_EMAIL)
    refused = console.client.put(
        "/api/v1/fx/reporting-currency", json={"currency": "USD"}, headers=csm_headers
    )
    assert refused.status_code == 403


def _as_the_sum_made_it(value: float, currency: str) -> float:
    """A figure in the reporting currency converted as convert() did before it skipped the
    Decimal sum for the common case: the decimal it is written as, rounded to the minor unit."""
    return float(round(Decimal(0) + Decimal(str(value)), minor_unit_digits(currency)))


FIGURES = st.one_of(
    st.floats(min_value=-1e15, max_value=1e15),  # beyond, the Decimal sum overflows its 28 digits
    st.decimals(places=2, min_value=-(10**12), max_value=10**12).map(float),
    st.decimals(places=3, min_value=-(10**6), max_value=10**6).map(float),
    st.sampled_from([0.0, -0.0, 1234.565, 2.675, 0.1 + 0.2, 1e16, 1.5e-07, 97222.76]),
)


@settings(derandomize=True, max_examples=500)  # the same cases on every run
@given(value=FIGURES, currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_a_figure_in_the_reporting_currency_is_the_sum_it_always_was(
    value: float, currency: str
) -> None:
    """A figure already in the reporting currency (the portfolio CSV's common row) converts to
    the very float the Decimal sum gave: same digits, same sign of zero."""
    table = RateTable(currency, {})
    amount = convert({currency: value}, table, date(2026, 12, 1)).amount
    assert repr(amount) == repr(_as_the_sum_made_it(value, currency))
