"""Every metric on the hand-built fixture equals its hand calculation (see fixtures.py)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import ibis
import pandas as pd
import pytest

from tenure.metrics.compute import compute_metrics
from tenure.metrics.registry import all_metrics, get_metric
from tenure.metrics.snapshot import snapshot_from_rows
from tenure.store.events import events_table_from_rows
from tests.metrics.conftest import compute_on
from tests.metrics.fixtures import AS_OF, EVENTS, EXPECTED, SNAPSHOT_ROWS


def assert_same(actual: Any, expected: Any, where: str) -> None:
    if expected is None:
        assert actual is None or pd.isna(actual), f"{where}: expected no data, got {actual!r}"
    elif isinstance(expected, str):
        assert actual == expected, where
    elif isinstance(expected, int):
        assert not pd.isna(actual) and float(actual) == expected, f"{where}: {actual!r}"
    else:
        assert math.isclose(float(actual), expected, rel_tol=1e-9), f"{where}: {actual!r}"


def test_fixture_expectations_cover_every_registered_metric() -> None:
    slugs = {m.slug for m in all_metrics()}
    for account, expected in EXPECTED.items():
        assert set(expected) == slugs, account


@pytest.fixture(scope="module")
def computed() -> pd.DataFrame:
    return compute_on(ibis.duckdb.connect())


def test_every_metric_matches_its_hand_calculation(computed: pd.DataFrame) -> None:
    frame = computed.set_index("account_external_id")
    # cargo is created after the as-of day and must not appear
    assert list(frame.index) == ["acme", "bolt", "dyna"]
    for account, expected in EXPECTED.items():
        for slug, value in expected.items():
            assert_same(frame.loc[account, slug], value, f"{account}.{slug}")


def test_one_row_per_account_with_account_columns(computed: pd.DataFrame) -> None:
    frame = computed
    assert frame.account_id.is_unique
    assert frame.loc[0, "segment"] == "enterprise"
    assert list(frame.columns[:5]) == [
        "account_id",
        "account_external_id",
        "account_name",
        "segment",
        "experience_segment",
    ]


def test_chosen_metrics_can_be_computed_alone(duckdb_con: ibis.BaseBackend) -> None:
    events = duckdb_con.create_table("e", events_table_from_rows(EVENTS))
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    chosen = [get_metric("nps_trend"), get_metric("arr")]
    frame = compute_metrics(duckdb_con, events, snapshot, AS_OF, chosen).to_pandas()
    assert list(frame.columns[5:]) == ["nps_trend", "arr"]
    acme = frame.set_index("account_external_id").loc["acme"]
    assert acme.nps_trend == EXPECTED["acme"]["nps_trend"] and acme.arr == EXPECTED["acme"]["arr"]


def test_expressions_for_several_days_can_wait_to_be_executed(
    duckdb_con: ibis.BaseBackend,
) -> None:
    events = duckdb_con.create_table("e", events_table_from_rows(EVENTS))
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    chosen = [get_metric("events_28d")]
    today = compute_metrics(duckdb_con, events, snapshot, AS_OF, chosen)
    yesterday = compute_metrics(duckdb_con, events, snapshot, AS_OF - timedelta(days=1), chosen)
    # acme on 03-30 (window 03-03…03-30): the 8 of 03-31 minus the two reports and the
    # ai_summary of 03-31, plus u4's export late on 03-03 → 6
    assert yesterday.to_pandas().events_28d.tolist() == [6, 0, 2]  # dyna: 03-28, 03-29
    assert today.to_pandas().events_28d.tolist() == [8, 0, 2]


def test_a_renewal_won_in_the_crm_books_the_renewal_from_its_close_day(
    duckdb_con: ibis.BaseBackend,
) -> None:
    """Rule 3 of the renewal list: a CRM records a renewal as a won opportunity and billing has
    no field for it. dyna's EUR contract (2025-01-01 to 03-31, no outcome yet as of 03-31) is
    booked once a renewal won during its term has closed, not before; a win before the term
    books nothing."""
    events = duckdb_con.create_table("e", events_table_from_rows(EVENTS))

    def booked(wins: list[date], as_of: date = AS_OF) -> int:
        rows = SNAPSHOT_ROWS | {
            "won_renewals": [{"account_id": 4, "closed_on": day} for day in wins]
        }
        snapshot = snapshot_from_rows(duckdb_con, **rows)
        frame = compute_metrics(
            duckdb_con, events, snapshot, as_of, [get_metric("renewal_booked")]
        ).to_pandas()
        return int(frame.set_index("account_external_id").loc["dyna", "renewal_booked"])

    assert booked([date(2025, 3, 15)]) == 1
    assert booked([date(2025, 3, 15)], as_of=date(2025, 3, 14)) == 0
    assert booked([date(2024, 12, 20)]) == 0  # before the term
    assert booked([]) == 0
