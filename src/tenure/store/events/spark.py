"""Events on Spark: the embedded Parquet layout (and inbox), read by a Spark session.

``TENURE_EVENTS_ENGINE=spark`` keeps writing exactly as the embedded store does — the inbox,
compaction and ``events/event_date=YYYY-MM-DD/`` files — and reads them with Spark instead of an
in-memory DuckDB, so the metric definitions run unchanged where DuckDB on one machine no longer
fits. ``TENURE_SPARK_MASTER`` says where Spark runs: ``local[2]`` (default) or a cluster's master
URL; on a cluster the data dir must be storage every executor reads at the same path.

Each ``connect()`` is a new Spark session (``SparkSession.newSession``) on one shared Spark
context: its own temporary views and SQL settings, as private as DuckDB's in-memory database, and
``disconnect()`` drops those views without stopping the context that the next connection reuses
(Spark takes tens of seconds to start). pyspark is imported only here, and only on ``connect()``.

Ibis's PySpark backend cannot create temporary tables, which the snapshot and the metric roll-up
need. :class:`SparkBackend` adds them: Arrow tables become cached DataFrames, expressions become
cached query results computed once (``count()``), each registered as a temporary view.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends.pyspark import Backend as PySparkBackend

from tenure.errors import InvalidInput
from tenure.store.events.embedded import EmbeddedEvents

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
_LOCAL = re.compile(r"^local(?:\[(\d+|\*)(?:,\d+)?\])?$")


def _local_cores(master: str) -> int | None:
    """Cores of a ``local[N]`` master (``local`` is 1, ``local[*]`` all), None for a cluster."""
    match = _LOCAL.match(master)
    if match is None:
        return None
    cores = match.group(1)
    if cores is None:
        return 1
    return os.cpu_count() or 1 if cores == "*" else int(cores)


def spark_config(master: str) -> dict[str, str]:
    """The settings Tenure starts Spark with; a cluster's own defaults apply for the rest."""
    config = {
        "spark.app.name": "tenure",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Reading thousands of day partitions: list them on the driver, not in a Spark job.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    }
    cores = _local_cores(master)
    if cores is not None:
        # 200 shuffle partitions (Spark's default) is sized for clusters; locally each costs a
        # task per stage for nothing.
        config["spark.sql.shuffle.partitions"] = str(max(2, 2 * cores))
    return config


@cache
def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """The process's Spark session (started once; later calls return the running one)."""
    from pyspark.sql import SparkSession

    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise InvalidInput(
            "TENURE_EVENTS_ENGINE=spark needs a Java runtime (17 or 21): "
            "apt-get install default-jre-headless, or set JAVA_HOME"
        )
    builder = SparkSession.builder.master(master)
    for key, value in spark_config(master).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkBackend(PySparkBackend):
    """Ibis's PySpark backend with temporary tables, and a disconnect that keeps Spark running."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._temporary: dict[str, DataFrame] = {}

    def create_table(
        self,
        name: str,
        /,
        obj: ir.Table | pa.Table | pd.DataFrame | None = None,
        *,
        schema: Any = None,
        database: str | None = None,
        temp: bool | None = None,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> ir.Table:
        if not temp:
            return super().create_table(
                name, obj, schema=schema, database=database, overwrite=overwrite, **kwargs
            )
        if database is not None:
            raise ValueError("temporary Spark tables live in the session, not in a database")
        if name in self._temporary and not overwrite:
            raise ValueError(f"temporary table {name!r} exists; pass overwrite=True")
        if obj is None:
            obj = ibis.schema(schema).to_pyarrow().empty_table()
        if isinstance(obj, ir.Table):
            self._run_pre_execute_hooks(obj)
            frame = self._session.sql(self.compile(obj)).cache()
            frame.count()  # computed once here, read from the cache by every later query
        else:
            arrow = obj if isinstance(obj, pa.Table) else pa.Table.from_pandas(obj)
            frame = self._session.createDataFrame(arrow).cache()
        self._drop_temporary(name)
        frame.createOrReplaceTempView(name)
        self._temporary[name] = frame
        return self.table(name)

    def read_parquet(
        self, path: str | Path | list[str], /, *, table_name: str | None = None, **kwargs: Any
    ) -> ir.Table:
        """Files of one Hive-partitioned folder (``key=value/part.parquet``) keep the partition
        columns: their common root is Spark's ``basePath``."""
        if not isinstance(path, list | tuple):
            return super().read_parquet(path, table_name=table_name, **kwargs)
        files = [str(p) for p in path]
        root = os.path.commonpath([str(Path(f).parent.parent) for f in files])
        frame = self._session.read.option("basePath", root).parquet(*files, **kwargs)
        name = table_name or ibis.util.gen_name("read_parquet")
        frame.createOrReplaceTempView(name)
        return self.table(name)

    def drop_table(
        self, name: str, /, *, database: str | None = None, force: bool = False, **kwargs: Any
    ) -> None:
        """A temporary table is unpersisted and its view dropped; any other goes to Spark."""
        if database is None and name in self._temporary:
            self._drop_temporary(name)
            return
        super().drop_table(name, database=database, force=force, **kwargs)

    def _drop_temporary(self, name: str) -> None:
        frame = self._temporary.pop(name, None)
        if frame is not None:
            frame.unpersist()
            self._session.catalog.dropTempView(name)

    def disconnect(self) -> None:
        """Drop this connection's temporary tables; the Spark context stays up for the next."""
        for name in list(self._temporary):
            self._drop_temporary(name)


def connect_spark(master: str = DEFAULT_MASTER) -> SparkBackend:
    """A private Ibis connection (its own Spark session) on the process's Spark context."""
    if getattr(ibis.options, "pyspark", None) is None:
        SparkBackend.register_options()  # what ``ibis.pyspark`` does on first use
    backend = SparkBackend()
    backend.do_connect(spark_session(master).newSession())
    return backend


class SparkEvents(EmbeddedEvents):
    """The embedded store's files and inbox, read through Spark."""

    def __init__(self, data_dir: Path, master: str = DEFAULT_MASTER) -> None:
        super().__init__(data_dir)
        self.master = master

    @property
    def location(self) -> str:
        return f"{super().location}, read by Spark ({self.master})"

    def connect(self) -> ibis.BaseBackend:
        return connect_spark(self.master)
