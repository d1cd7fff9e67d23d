"""The Account 360 ARR history: steps at each term, up to today, in one currency."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from tenure.model.contract import ContractStatus
from tenure.portfolio.account_360 import arr_history


def term(number: int, starts_on: date, ends_on: date, arr: float, **other: Any) -> Any:
    fields = {
        "currency": "USD",
        "status": ContractStatus.active,
        "outcome_on": None,
        "auto_renews": False,
    } | other
    return SimpleNamespace(
        id=number, account_id=1, starts_on=starts_on, ends_on=ends_on, arr=arr, **fields
    )


def test_a_term_ending_after_today_holds_its_arr_to_today() -> None:
    contracts = [
        term(1, date(2024, 1, 1), date(2024, 12, 31), 100),
        term(2, date(2025, 1, 1), date(2025, 12, 31), 120),
    ]
    points = [(p.on, p.arr) for p in arr_history(contracts, date(2025, 6, 30))]
    assert points == [(date(2024, 1, 1), 100), (date(2025, 1, 1), 120), (date(2025, 6, 30), 120)]


def test_a_lost_account_falls_to_zero_the_day_after_its_last_term() -> None:
    contracts = [term(1, date(2024, 1, 1), date(2024, 12, 31), 100)]
    points = [(p.on, p.arr) for p in arr_history(contracts, date(2025, 6, 30))]
    assert points == [(date(2024, 1, 1), 100), (date(2025, 1, 1), 0), (date(2025, 6, 30), 0)]


def test_pending_terms_and_other_currencies_are_left_out() -> None:
    contracts = [
        term(1, date(2024, 1, 1), date(2024, 12, 31), 90, currency="EUR"),
        term(2, date(2025, 1, 1), date(2025, 12, 31), 120),
        term(3, date(2025, 3, 1), date(2026, 2, 28), 40, status=ContractStatus.pending),
    ]
    points = [(p.on, p.arr) for p in arr_history(contracts, date(2025, 6, 30))]
    assert points == [(date(2025, 1, 1), 120), (date(2025, 6, 30), 120)]


def test_a_term_cancelled_mid_way_stops_the_day_after_its_outcome() -> None:
    contracts = [
        term(1, date(2025, 1, 1), date(2025, 12, 31), 120, status=ContractStatus.cancelled,
             outcome_on=date(2025, 3, 31)),
    ]  # fmt: skip
    points = [(p.on, p.arr) for p in arr_history(contracts, date(2025, 6, 30))]
    assert points == [(date(2025, 1, 1), 120), (date(2025, 4, 1), 0), (date(2025, 6, 30), 0)]
