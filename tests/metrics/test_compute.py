"""Every metric on the hand-built fixture equals its hand calculation (see fixtures.py)."""

from __future__ import annotations

import math
from typing import Any

import ibis
import pandas as pd
import pytest

from tenure.metrics.registry import all_metrics
from tests.metrics.conftest import compute_on
from tests.metrics.fixtures import EXPECTED


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


def test_every_metric_matches_its_hand_calculation(duckdb_con: ibis.BaseBackend) -> None:
    frame = compute_on(duckdb_con).set_index("account_external_id")
    # cargo is created after the as-of day and must not appear
    assert list(frame.index) == ["acme", "bolt", "dyna"]
    for account, expected in EXPECTED.items():
        for slug, value in expected.items():
            assert_same(frame.loc[account, slug], value, f"{account}.{slug}")


def test_one_row_per_account_with_account_columns(duckdb_con: ibis.BaseBackend) -> None:
    frame = compute_on(duckdb_con)
    assert frame.account_id.is_unique
    assert frame.loc[0, "segment"] == "enterprise"
    assert list(frame.columns[:5]) == [
        "account_id",
        "account_external_id",
        "account_name",
        "segment",
        "experience_segment",
    ]


@pytest.mark.parametrize("slug", ["arr", "active_users_28d", "nps_trend"])
def test_a_single_metric_can_be_computed_alone(duckdb_con: ibis.BaseBackend, slug: str) -> None:
    from tenure.metrics.compute import compute_metrics
    from tenure.metrics.registry import get_metric
    from tenure.metrics.snapshot import snapshot_from_rows
    from tenure.store.events import events_table_from_rows
    from tests.metrics.fixtures import AS_OF, EVENTS, SNAPSHOT_ROWS

    events = duckdb_con.create_table("e", events_table_from_rows(EVENTS))
    snapshot = snapshot_from_rows(duckdb_con, **SNAPSHOT_ROWS)
    frame = compute_metrics(duckdb_con, events, snapshot, AS_OF, [get_metric(slug)]).to_pandas()
    assert list(frame.columns[5:]) == [slug]
    assert_same(
        frame.set_index("account_external_id").loc["acme", slug], EXPECTED["acme"][slug], slug
    )
