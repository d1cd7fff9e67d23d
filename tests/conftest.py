"""Backend fixtures shared by every test: each database test runs on SQLite and PostgreSQL.

Tests run on the migrated schema (once per session per backend) and roll back after each test.
Under CI=true a skipped test is a failure, and the summary counts passes per backend marker.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.store.database import create_engine
from tenure.store.migrate import upgrade
from tests import pg

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# pytest-xdist's workers inherit COLUMNS=80 from the runner; the CLI's console reads it once, at
# import, and would cut its lines at 80 in some workers only. Tests that want a width set their own.
os.environ.pop("COLUMNS", None)
BACKEND_MARKERS = ("postgres", "browser", "spark")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, int]]:
    bin_dir = pg.server_binaries()
    if bin_dir is None:
        msg = "no PostgreSQL server binaries: apt-get install postgresql"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    with pg.running_server(bin_dir) as server:
        yield server


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local[2] Spark of the test run (UTC, no UI), shared by every Spark test.

    Tuned for tiny data: one shuffle partition and no adaptive re-planning, which on a few
    thousand rows costs more jobs than it saves (the parity test runs in half the time).
    """
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        msg = "no Java runtime for Spark: apt-get install default-jre-headless"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from pyspark.sql import SparkSession

    from tenure.store.events.spark import DEFAULT_MASTER, spark_config, spark_session

    builder = SparkSession.builder.master(DEFAULT_MASTER)
    for key, value in {
        **spark_config(DEFAULT_MASTER),
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.adaptive.enabled": "false",
    }.items():
        builder = builder.config(key, value)
    builder.getOrCreate()
    session = spark_session(DEFAULT_MASTER)  # the stores' connections now share this one
    yield session
    session.stop()
    spark_session.cache_clear()


def _create_database(server: tuple[str, int], name: str, template: str | None = None) -> str:
    admin = sa.create_engine(pg.url(*server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = f" TEMPLATE {template}" if template else ""
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    return pg.url(*server, name)


@pytest.fixture(scope="session")
def migrated_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One migrated database per backend per session; returns a factory of fresh copies."""
    made: dict[str, str] = {}

    def fresh(backend: str) -> str:
        if backend not in made:
            if backend == "postgres":
                server = request.getfixturevalue("postgres_server")
                made[backend] = _create_database(server, "tenure_template")
            else:
                made[backend] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"
            engine = create_engine(made[backend])
            upgrade(engine)
            engine.dispose()
        template = made[backend]
        if backend == "postgres":
            server = request.getfixturevalue("postgres_server")
            return _create_database(server, f"t_{uuid.uuid4().hex[:12]}", "tenure_template")
        copy = tmp_path_factory.mktemp("db") / "tenure.db"
        shutil.copy(template.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"

    return fresh


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def _session_engines() -> Iterator[dict[str, sa.Engine]]:
    engines: dict[str, sa.Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def engine(backend: str, migrated_template, _session_engines: dict[str, sa.Engine]) -> sa.Engine:
    """A migrated database on the backend under test, shared by the session's tests."""
    if backend not in _session_engines:
        _session_engines[backend] = create_engine(migrated_template(backend))
    return _session_engines[backend]


@pytest.fixture
def database_url(backend: str, migrated_template) -> str:
    """A fresh migrated database of its own, for tests that commit or cross processes."""
    return str(migrated_template(backend))


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, commits included."""
    with engine.connect() as connection:
        transaction = connection.begin()
        db = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db
        finally:
            db.close()
            transaction.rollback()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "tenure-data"
    path.mkdir()
    return path


# --- CI discipline -------------------------------------------------------------------------

_passed_by_marker: Counter[str] = Counter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run everything: {report.longrepr}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Counted where the reports arrive, so the figures hold with xdist's workers too."""
    if report.when == "call" and report.passed:
        for marker in BACKEND_MARKERS:
            if marker in report.keywords:
                _passed_by_marker[marker] += 1


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    counts = ", ".join(f"{m}: {_passed_by_marker[m]} passed" for m in BACKEND_MARKERS)
    terminalreporter.write_line(f"backend markers — {counts}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser or Spark test starts Chromium or a JVM before its first assertion — seconds
    each — so it is slow too, and `pytest -m "not slow"` (the fast loop) leaves it out."""
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.slow)
