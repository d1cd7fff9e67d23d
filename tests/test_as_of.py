"""The one as-of rule: the day asked for, else the last day the data covers, never after today."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.as_of import resolve_as_of
from tenure.cli.main import app
from tenure.model import DailyRun, MetricSnapshot
from tenure.model.base import utcnow
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

TODAY = date(2026, 3, 10)


def test_nothing_stored_means_today(session: Session) -> None:
    as_of = resolve_as_of(session, None, None, TODAY)
    assert as_of.day == TODAY
    assert as_of.statement == "as of 2026-03-10 (the last day the data covers)"


def test_the_latest_stored_day_wins_but_never_after_today(session: Session) -> None:
    acme = f.account(session, external_id="acme")
    session.add(DailyRun(as_of=date(2026, 3, 1), status="succeeded", started_at=datetime.now(UTC)))
    session.add(DailyRun(as_of=date(2026, 3, 4), status="failed", started_at=datetime.now(UTC)))
    session.add(MetricSnapshot(as_of=date(2026, 3, 2), account_id=acme.id, values={}))
    session.flush()
    # The failed run of 03-04 covers nothing; the metrics of 03-02 are the latest data.
    assert resolve_as_of(session, None, None, TODAY).day == date(2026, 3, 2)
    assert resolve_as_of(session, None, None, date(2026, 3, 1)).day == date(2026, 3, 1)


def test_a_day_asked_for_is_the_day_judged(session: Session) -> None:
    as_of = resolve_as_of(session, None, date(2025, 12, 31), TODAY)
    assert as_of.day == date(2025, 12, 31)
    assert as_of.statement == "as of 2025-12-31 (as asked)"


def test_a_command_judges_the_last_day_the_data_covers_and_says_so(
    database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        session.add(DailyRun(as_of=date(2026, 1, 5), status="succeeded", started_at=utcnow()))
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["metrics", "compute"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("as of 2026-01-05 (the last day the data covers)\n")
    computed = runner.invoke(app, ["metrics", "compute", "--json"])
    assert json.loads(computed.output)["as_of"] == "2026-01-05"
    asked = runner.invoke(app, ["metrics", "compute", "--json", "--as-of", "2026-01-02"])
    assert json.loads(asked.output)["as_of"] == "2026-01-02"
    bad = runner.invoke(app, ["metrics", "compute", "--as-of", "05/01/2026"])
    assert bad.exit_code == 1 and "--as-of '05/01/2026' is not a date (YYYY-MM-DD)" in bad.output
