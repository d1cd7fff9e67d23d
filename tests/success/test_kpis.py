"""KPIs on a five-account book whose every figure is worked out by hand in the comments."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenure.accounts.arr import arr_on
from tenure.errors import InvalidInput
from tenure.success.kpis import (
    AccountFact,
    ContractFact,
    GroupBy,
    NpsAnswer,
    Period,
    compute_kpis,
    nps,
    parse_period,
)

YEAR = Period(date(2025, 1, 1), date(2026, 1, 1))

CONTRACTS = [
    # 1: expands 100 → 150 at its mid-year renewal.
    ContractFact(1, "USD", date(2024, 7, 1), date(2025, 6, 30), 100.0, "expanded"),
    ContractFact(1, "USD", date(2025, 7, 1), date(2026, 6, 30), 150.0),
    # 2: churns 200 in February.
    ContractFact(2, "USD", date(2024, 3, 1), date(2025, 2, 28), 200.0, "churned"),
    # 3: downgrades 300 → 240 in October.
    ContractFact(3, "USD", date(2024, 10, 1), date(2025, 9, 30), 300.0, "downgraded"),
    ContractFact(3, "USD", date(2025, 10, 1), date(2026, 9, 30), 240.0),
    # 4: a EUR customer, flat — must never be added to the USD figures.
    ContractFact(4, "EUR", date(2024, 6, 1), date(2026, 5, 31), 1000.0),
    # 5: new in March: not in the starting cohort, so outside NRR/GRR.
    ContractFact(5, "USD", date(2025, 3, 1), date(2026, 2, 28), 50.0),
]
ACCOUNTS = [
    AccountFact(1, "smb", "alice", 8, 10, 0.3, date(2024, 7, 1), date(2024, 8, 1)),
    AccountFact(2, "smb", "bob", None, None, 0.1, date(2024, 3, 1), None),
    AccountFact(3, "ent", "alice", 2, 10, 0.5, date(2024, 10, 1), date(2024, 12, 30)),
    AccountFact(4, "ent", "bob", None, None, None, date(2024, 6, 1), None),
    # 5: the only new customer of 2025, good fit at signing, brought by a referral.
    AccountFact(
        5,
        "smb",
        "alice",
        None,
        None,
        0.6,
        date(2025, 3, 1),
        date(2025, 3, 11),
        "good",
        referred=True,
    ),
]
ANSWERS = [
    NpsAnswer(1, 10, date(2025, 2, 1)),
    NpsAnswer(3, 9, date(2025, 5, 1)),
    NpsAnswer(4, 7, date(2025, 6, 1)),
    NpsAnswer(5, 3, date(2025, 9, 1)),
    NpsAnswer(2, 0, date(2024, 12, 31)),  # outside the period
]


def test_portfolio_kpis_match_the_hand_calculation() -> None:
    report = compute_kpis(YEAR, ACCOUNTS, CONTRACTS, ANSWERS)
    (row,) = report.rows
    eur, usd = row.by_currency
    # USD cohort = accounts 1, 2, 3: start 100 + 200 + 300 = 600; end 150 + 0 + 240 = 390.
    assert (usd.currency, usd.cohort_accounts, usd.start_arr, usd.end_arr) == ("USD", 3, 600, 390)
    assert usd.nrr == pytest.approx(390 / 600, rel=1e-9)  # 0.65
    # GRR: min(150,100) + min(0,200) + min(240,300) = 340 → 340 / 600.
    assert usd.grr == pytest.approx(340 / 600, rel=1e-9)
    assert (usd.expansion_arr, usd.contraction_arr, usd.churned_arr) == (50, 60, 200)
    assert usd.logo_churn == pytest.approx(1 / 3, rel=1e-9)
    assert usd.arr_churn == pytest.approx(200 / 600, rel=1e-9)
    assert (eur.currency, eur.start_arr, eur.nrr, eur.grr) == ("EUR", 1000, 1.0, 1.0)
    # Renewals due in 2025 with an outcome: 1 (expanded), 2 (churned), 3 (downgraded) → 2 of 3.
    assert (row.renewals_due, row.renewed) == (3, 2)
    assert row.renewal_rate == pytest.approx(2 / 3, rel=1e-9)
    # Seats: (8 + 2) / (10 + 10).
    assert row.license_utilization == pytest.approx(0.5, rel=1e-9)
    # Feature share: mean(0.3, 0.1, 0.5, 0.6) = 0.375.
    assert row.feature_adoption == pytest.approx(0.375, rel=1e-9)
    # First value reached in 2025: only account 5 (10 days); 1 and 3 reached theirs in 2024.
    assert row.time_to_value_days == 10
    # 2024's: 1 after 31 days, 3 after 90 → median 60.5 (5's is in 2025: not read in 2024).
    (earlier,) = compute_kpis(parse_period("2024"), ACCOUNTS, CONTRACTS, ANSWERS).rows
    assert earlier.time_to_value_days == 60.5
    # 2025 answers 10, 9, 7, 3: (2 promoters − 1 detractor) / 4 = 25.
    assert (row.nps, row.nps_responses) == (25.0, 4)
    assert (row.new_customers, row.good_fit_new, row.good_fit_share, row.referred_new) == (
        1,
        1,
        1.0,
        1,
    )


def test_kpis_by_segment_and_csm() -> None:
    by_segment = {
        r.group: r for r in compute_kpis(YEAR, ACCOUNTS, CONTRACTS, by=GroupBy.segment).rows
    }
    smb_usd = by_segment["smb"].by_currency[0]
    # smb cohort = 1, 2: start 300, end 150; GRR = (100 + 0) / 300.
    assert smb_usd.nrr == pytest.approx(0.5, rel=1e-9)
    assert smb_usd.grr == pytest.approx(1 / 3, rel=1e-9)
    assert [c.currency for c in by_segment["ent"].by_currency] == ["EUR", "USD"]
    assert by_segment["ent"].by_currency[1].nrr == pytest.approx(0.8, rel=1e-9)
    by_csm = {r.group: r for r in compute_kpis(YEAR, ACCOUNTS, CONTRACTS, by=GroupBy.csm).rows}
    # alice: 1 and 3 → start 400, end 390.
    assert by_csm["alice"].by_currency[0].nrr == pytest.approx(390 / 400, rel=1e-9)
    assert set(by_csm) == {"alice", "bob"}


def test_a_contract_ending_the_day_its_successor_starts_is_not_double_counted() -> None:
    contracts = [
        ContractFact(1, "USD", date(2024, 1, 1), date(2025, 1, 1), 100.0, "renewed"),
        ContractFact(1, "USD", date(2025, 1, 1), date(2026, 1, 1), 110.0),
    ]
    assert arr_on(contracts, date(2025, 1, 1)) == {(1, "USD"): 110.0}


def test_nps_and_periods() -> None:
    assert nps([10, 9, 7, 3]) == 25.0
    assert nps([]) is None
    assert parse_period("2025-Q3") == Period(date(2025, 7, 1), date(2025, 10, 1))
    assert parse_period("2025-12") == Period(date(2025, 12, 1), date(2026, 1, 1))
    assert parse_period("2025-01-01..2025-06-30").end == date(2025, 7, 1)
    with pytest.raises(InvalidInput, match="2025-Q5"):
        parse_period("2025-Q5")


@settings(derandomize=True)
@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_explicit_ranges_round_trip(first: date, days: int) -> None:
    last = first + timedelta(days=days)
    period = parse_period(f"{first}..{last}")
    assert (period.start, period.last_day) == (first, last)
    assert parse_period(period.label) == period


@settings(derandomize=True)
@given(st.integers(min_value=1990, max_value=2100))
def test_quarters_and_months_tile_the_year(year: int) -> None:
    quarters = [parse_period(f"{year}-Q{q}") for q in range(1, 5)]
    months = [parse_period(f"{year}-{m:02d}") for m in range(1, 13)]
    for parts in (quarters, months):
        assert parts[0].start == parse_period(str(year)).start
        assert parts[-1].end == parse_period(str(year)).end
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))


def test_one_figure_per_kpi_in_the_reporting_currency() -> None:
    from decimal import Decimal

    from tenure.accounts.fx import RateTable

    # EUR at 1.10 on 2025-12-31 (an older 1.05 is not used: the latest on or before the day).
    rates = RateTable(
        "USD",
        {"EUR": [(date(2025, 6, 30), Decimal("1.05")), (date(2025, 12, 31), Decimal("1.10"))]},
    )
    row = compute_kpis(YEAR, ACCOUNTS, CONTRACTS, ANSWERS, rates=rates).rows[0]
    usd = row.reporting
    assert usd is not None
    # Start: 100 + 200 + 300 + 1000 × 1.10 = 1,700; end: 150 + 0 + 240 + 1,100 = 1,490.
    assert (usd.start_arr, usd.end_arr) == (1700.0, 1490.0)
    assert usd.nrr == pytest.approx(1490 / 1700, rel=1e-9)
    # GRR: 100 + 0 + 240 + 1,100 = 1,440 retained; expansion 50; contraction 60; churned 200.
    assert usd.grr == pytest.approx(1440 / 1700, rel=1e-9)
    assert (usd.expansion_arr, usd.contraction_arr, usd.churned_arr) == (50.0, 60.0, 200.0)
    assert (usd.cohort_accounts, usd.churned_accounts, usd.logo_churn) == (4, 1, 0.25)
    assert [(r.currency, r.rate, r.rate_on) for r in usd.rates] == [
        ("EUR", 1.1, date(2025, 12, 31))
    ]
    # The per-currency breakdown is still there, unconverted.
    assert [c.currency for c in row.by_currency] == ["EUR", "USD"]


def test_a_missing_rate_gives_no_arr_figure_and_names_the_currency() -> None:
    from decimal import Decimal

    from tenure.accounts.fx import RateTable

    late = RateTable("USD", {"EUR": [(date(2026, 1, 5), Decimal("1.1"))]})  # after the period
    usd = compute_kpis(YEAR, ACCOUNTS, CONTRACTS, ANSWERS, rates=late).rows[0].reporting
    assert usd is not None and usd.missing == ["EUR"]
    assert (usd.start_arr, usd.nrr, usd.grr, usd.expansion_arr) == (None, None, None, None)
    assert usd.logo_churn == 0.25  # logos need no rate
