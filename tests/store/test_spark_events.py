"""Choosing Spark for events, and the settings Spark starts with (no Spark started here)."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from tenure.config import Settings
from tenure.store.events import open_event_store
from tenure.store.events.spark import SparkEvents, spark_config


def test_the_spark_engine_reads_the_embedded_layout(tmp_path: Path) -> None:
    store = open_event_store(
        Settings(data_dir=tmp_path, events_engine="spark", spark_master="local[3]")
    )
    assert isinstance(store.storage, SparkEvents)
    assert store.storage.master == "local[3]"
    assert store.parquet_dir == tmp_path / "events"
    assert not store.is_postgres


def test_the_default_engine_is_duckdb(tmp_path: Path) -> None:
    assert not isinstance(open_event_store(Settings(data_dir=tmp_path)).storage, SparkEvents)


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="events_engine"):
        Settings(events_engine="hadoop")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("master", "partitions"),
    [("local", "2"), ("local[2]", "4"), ("local[8]", "16"), ("spark://spark-master:7077", None)],
)
def test_shuffle_partitions_follow_local_cores_and_clusters_keep_their_own(
    master: str, partitions: str | None
) -> None:
    config = spark_config(master)
    assert config.get("spark.sql.shuffle.partitions") == partitions
    assert config["spark.sql.session.timeZone"] == "UTC"
    assert config["spark.ui.enabled"] == "false"
