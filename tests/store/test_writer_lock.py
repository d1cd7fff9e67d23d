"""A transaction that reads and then writes on SQLite (WAL) fails at once with "database is
locked" when another connection commits in between; beginning as the writer makes the others wait
instead (a sign-in during the daily run failed the day's metrics in CI). The daily run now does so
per step, for the steps that change what they read (tests/jobs/test_daily_transactions.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.store.database import begin_as_writer, create_engine, session_factory


def _read_then_write(tmp_path: Path, begin: Callable[[Session], None]) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'writer.db'}")
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE run (n INTEGER)")
        setup.exec_driver_sql("CREATE TABLE login (n INTEGER)")
    other = sa.create_engine(f"sqlite:///{tmp_path / 'writer.db'}", connect_args={"timeout": 0.2})
    session = session_factory(engine)()
    try:
        begin(session)
        with session.begin_nested():  # each daily-run step is a savepoint
            session.execute(sa.text("SELECT count(*) FROM run")).scalar()  # the step reads
            try:  # someone signs in meanwhile (may wait, then give up, while the run writes)
                with other.begin() as sign_in:
                    sign_in.exec_driver_sql("INSERT INTO login VALUES (1)")
            except sa.exc.OperationalError:
                pass
            session.execute(sa.text("INSERT INTO run VALUES (1)"))  # then writes
        session.commit()
    finally:
        session.close()
        other.dispose()
        engine.dispose()


def test_a_read_then_write_transaction_fails_when_another_commits_in_between(
    tmp_path: Path,
) -> None:
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        _read_then_write(tmp_path, lambda session: None)


def test_beginning_as_the_writer_makes_the_others_wait(tmp_path: Path) -> None:
    _read_then_write(tmp_path, begin_as_writer)
