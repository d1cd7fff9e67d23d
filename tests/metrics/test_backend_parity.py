"""The full metric set on a simulated base gives the same answers on DuckDB, PostgreSQL and Spark.

One tiny simulated base (fixed seed) in SQLite + Parquet. DuckDB and Spark read the Parquet
through their event stores; PostgreSQL gets the same events through its own event store. The
snapshot comes from the same SQLite session each time. On Spark the test also proves the work ran
as Spark jobs and that nothing bigger than the per-account result ever reached the driver: the
SQL status store (kept by Spark even with the UI off) has every query's output row count.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.metrics.registry import all_metrics
from tenure.metrics.service import metrics_frame
from tenure.simulate import load_config
from tenure.simulate.service import simulate_into_stores
from tenure.store.database import create_engine
from tenure.store.events import EVENT_COLUMNS, EventStore, open_event_store
from tests import pg
from tests.metrics.test_backends import assert_frames_equal

pytestmark = [pytest.mark.spark, pytest.mark.postgres]

# 24 accounts over 4 months: a few thousand events, every metric family non-trivial.
TINY = {"accounts": 24, "months": 4, "seed": 20261126}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, date]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("parity"))
    result = simulate_into_stores(load_config("demo", overrides=TINY), settings)
    # The day before the simulation's end: the last full day of events.
    return settings, result.as_of - timedelta(days=1)


@pytest.fixture(scope="module")
def sqlite_session(simulated: tuple[Settings, date]) -> Iterator[Session]:
    engine = create_engine(simulated[0].resolved_database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_store(
    simulated: tuple[Settings, date], postgres_server: tuple[str, int]
) -> Iterator[EventStore]:
    """The simulated events written into a fresh PostgreSQL database by its event store."""
    name = f"parity_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg.url(*postgres_server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = EventStore(simulated[0].data_dir, postgres_url=pg.url(*postgres_server, name))
    events = ds.dataset(simulated[0].data_dir / "events", format="parquet", partitioning="hive")
    store.write_parquet(events.to_table(columns=list(EVENT_COLUMNS)))
    yield store
    store.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _sql_executions(spark: Any) -> Any:
    return spark._jsparkSession.sharedState().statusStore()


def rows_returned(spark: Any, first_execution: int) -> dict[int, int]:
    """Output rows of the top of every SQL query run since ``first_execution``, by query id.

    Plan graph nodes are numbered from the root down, so the lowest-numbered node that counts
    its output rows is where the query's result leaves the plan.
    """
    status = _sql_executions(spark)
    executions = status.executionsList()
    found: dict[int, int] = {}
    for i in range(executions.size()):
        execution = executions.apply(i)
        execution_id = int(execution.executionId())
        if execution_id < first_execution:
            continue
        values = status.executionMetrics(execution_id)
        nodes = status.planGraph(execution_id).allNodes()
        for j in sorted(range(nodes.size()), key=lambda j: int(nodes.apply(j).id())):
            metrics = nodes.apply(j).metrics()
            counted = [
                metrics.apply(k).accumulatorId()
                for k in range(metrics.size())
                if metrics.apply(k).name() == "number of output rows"
            ]
            if counted and values.get(counted[0]).isDefined():
                found[execution_id] = int(values.get(counted[0]).get().replace(",", ""))
                break
    return found


def _running_executions(spark: Any) -> int:
    """Queries whose end Spark's listener has not recorded yet (it records asynchronously)."""
    executions = _sql_executions(spark).executionsList()
    return sum(
        1 for i in range(executions.size()) if executions.apply(i).completionTime().isEmpty()
    )


def _wait_for_queries(spark: Any) -> None:
    deadline = time.monotonic() + 30
    while _running_executions(spark) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_every_metric_is_the_same_on_duckdb_postgresql_and_spark(
    simulated: tuple[Settings, date],
    sqlite_session: Session,
    postgres_store: EventStore,
    spark: Any,
) -> None:
    settings, as_of = simulated
    on_duckdb = metrics_frame(sqlite_session, open_event_store(settings), as_of)
    on_postgres = metrics_frame(sqlite_session, postgres_store, as_of)

    spark_store = open_event_store(settings.model_copy(update={"events_engine": "spark"}))
    context = spark.sparkContext
    first_execution = int(_sql_executions(spark).executionsList().size())
    context.setJobGroup("tenure-parity", "metrics on Spark")
    on_spark = metrics_frame(sqlite_session, spark_store, as_of)
    jobs = list(context.statusTracker().getJobIdsForGroup("tenure-parity"))

    accounts = len(on_duckdb)
    events = open_event_store(settings).stats().events
    assert accounts == TINY["accounts"]
    assert set(on_duckdb.columns) >= {m.slug for m in all_metrics()}
    assert on_duckdb["events_28d"].sum() > 0
    assert_frames_equal(on_duckdb, on_postgres)
    assert_frames_equal(on_duckdb, on_spark)

    # Spark did the work, as Spark jobs...
    assert jobs, "no Spark job ran in the metric computation"
    # ...and no query handed the driver more rows than there are accounts, while the events
    # are many times more: the raw event table never came back into Python.
    assert events > 20 * accounts
    _wait_for_queries(spark)
    returned = rows_returned(spark, first_execution)
    assert returned, "Spark recorded no SQL query"
    assert max(returned.values()) <= accounts, returned
    assert accounts in returned.values()  # the final per-account table


def test_the_spark_store_reports_the_same_events(
    simulated: tuple[Settings, date], spark: Any
) -> None:
    settings, _ = simulated
    on_duckdb = open_event_store(settings).stats()
    on_spark = open_event_store(settings.model_copy(update={"events_engine": "spark"})).stats()
    assert (on_spark.events, on_spark.first, on_spark.last) == (
        on_duckdb.events,
        on_duckdb.first,
        on_duckdb.last,
    )
    assert "Spark (local[2])" in on_spark.location


def test_the_collection_check_sees_raw_events_collected(
    simulated: tuple[Settings, date], spark: Any
) -> None:
    """What the parity test rules out, done on purpose, shows in the rows-returned figures."""
    settings, _ = simulated
    store = open_event_store(settings.model_copy(update={"events_engine": "spark"}))
    first_execution = int(_sql_executions(spark).executionsList().size())
    con = store.connect()
    try:
        raw = store.table(con).to_pandas()
    finally:
        con.disconnect()
    _wait_for_queries(spark)
    assert max(rows_returned(spark, first_execution).values()) == len(raw) > TINY["accounts"]
