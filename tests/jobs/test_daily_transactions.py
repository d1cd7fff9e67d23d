"""The daily run commits step by step. It used to hold one transaction across all its steps — on
SQLite the one write lock for the whole run, so a CSM closing a CTA on a big book waited 30 s and
failed while the run worked; on PostgreSQL the rows the run touched stayed locked to the end.
Now a console write goes through between the steps and inside the long ones; a step that fails
after writing leaves nothing of itself; a run stopped between two steps is resumed to the same
result as one that never stopped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.auth.permissions import Actor
from tenure.jobs.daily import run_daily
from tenure.model import Cta, CtaStatus, User
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.rules import load_ruleset
from tenure.playbooks.schemas import Triage, TriageAction
from tenure.playbooks.triage import triage
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, events_table_from_rows
from tenure.success.kpis import GroupBy
from tests.jobs.test_daily import seed

FIRST, SECOND = date(2026, 3, 1), date(2026, 3, 2)
# How long a console write may wait for the database ("within a few seconds"): SQLite's
# busy_timeout, PostgreSQL's lock_timeout on the console's connections.
CONSOLE_WAIT_SECONDS = 3
# Steps that read (and compute) before they write: a console write must go through while they
# read. (The others take the write lock first and are short: see jobs.daily._reads_what_it_changes.)
COMPUTING_STEPS = ("metrics", "health", "lifecycle", "facts")


def usage(store: EventStore) -> EventStore:
    """A month of product usage for the seeded accounts: acme's two users daily, globex's one
    user every other day (so the metrics and health steps have work)."""
    rows: list[dict[str, Any]] = []
    for n in range(31):
        day = datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=n)
        users = [("acme", "ada"), ("acme", "bob")] + ([("globex", "gina")] if n % 2 else [])
        for account, user in users:
            rows.append(
                {
                    "message_id": f"{account}-{user}-{n}",
                    "source": "test",
                    "type": "track",
                    "account_id": account,
                    "user_id": user,
                    "event": "report.created",
                    "timestamp": day,
                    "received_at": day,
                }
            )
    store.write_parquet(events_table_from_rows(rows))
    return store


def console_engine(database_url: str) -> sa.Engine:
    """The console's own connections, as a web worker has them, waiting at most
    CONSOLE_WAIT_SECONDS for a lock."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url)
        wait = f"PRAGMA busy_timeout={CONSOLE_WAIT_SECONDS * 1000}"
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute(wait))
        return engine
    return create_engine(
        database_url, connect_args={"options": f"-c lock_timeout={CONSOLE_WAIT_SECONDS * 1000}"}
    )


def acknowledge(console: sa.Engine, cta_id: int, user_id: int) -> None:
    """What a CSM's "Acknowledge" button does (the same service as the API and the CLI)."""
    with session_scope(session_factory(console)) as session:
        actor = Actor(session.get_one(User, user_id), "web")
        triage(session, cta_id, Triage(action=TriageAction.acknowledge), actor, SECOND)


def test_console_writes_go_through_between_and_inside_the_steps(
    database_url: str, data_dir: Path
) -> None:
    engine, console = create_engine(database_url), console_engine(database_url)
    seed(engine)
    rules, settings = load_ruleset(), PlaybookSettings(mail_from="tenure@example.com")
    store = usage(EventStore(data_dir / "events"))
    assert run_daily(engine, FIRST, rules, settings).run.status == "succeeded"
    with session_scope(session_factory(engine)) as session:
        ctas = [(c.id, c.owner_id) for c in session.scalars(sa.select(Cta).order_by(Cta.id))]
    assert len(ctas) == 3  # acme: renewal and detractor; globex: champion left

    writes: list[tuple[str, str | None]] = []
    current = {"step": "", "inside": False}

    def write(point: str) -> None:
        cta_id, owner = ctas[len(writes) % len(ctas)]
        try:
            acknowledge(console, cta_id, owner)
            writes.append((point, None))
        except sa.exc.OperationalError as error:  # locked (SQLite) / lock timeout (PostgreSQL)
            writes.append((point, str(error.orig)))

    def between(step: str) -> None:
        current.update(step=step, inside=False)
        write(f"before {step}")

    def inside(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The step's first read: it is working, and has written nothing yet.
        step = current["step"]
        if step in COMPUTING_STEPS and not current["inside"] and statement.lstrip()[:6] == "SELECT":
            current["inside"] = True
            write(f"inside {step}")

    sa.event.listen(engine, "before_cursor_execute", inside)
    result = run_daily(
        engine, SECOND, rules, settings, store=store, data_dir=data_dir, on_step=between
    )
    sa.event.remove(engine, "before_cursor_execute", inside)
    assert result.run.status == "succeeded", result.run.errors
    assert result.run.counts["metrics"]["accounts"] == 2
    assert result.run.counts["health"]["scored"] == 2
    steps = [s["name"] for s in result.run.steps]
    expected = [
        point
        for step in steps
        for point in [f"before {step}"] + ([f"inside {step}"] if step in COMPUTING_STEPS else [])
    ]
    assert [point for point, _ in writes] == expected
    assert [(point, error) for point, error in writes if error] == []
    console.dispose()
    engine.dispose()


def test_a_cta_closed_while_the_rules_were_planned_stays_as_its_csm_closed_it(
    database_url: str,
) -> None:
    """The rules step plans the day unlocked, then locks and re-reads the CTAs it changes: one a
    CSM closed in between is left as they closed it (the day's decision does not touch it)."""
    engine, console = create_engine(database_url), console_engine(database_url)
    seed(engine)
    rules, settings = load_ruleset(), PlaybookSettings()
    assert run_daily(engine, FIRST, rules, settings).run.status == "succeeded"
    with session_scope(session_factory(engine)) as session:
        detractor = session.scalars(sa.select(Cta).where(Cta.rule_key == "nps_detractor")).one()
        cta_id, owner = detractor.id, detractor.owner_id
    current = {"step": ""}
    closed: list[int] = []

    def close_meanwhile(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The plan is made; the step is about to lock (SQLite) or lock the CTAs (PostgreSQL).
        head = statement.lstrip().upper()
        locking = head.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in head
        if current["step"] == "rules" and locking and not closed:
            with session_scope(session_factory(console)) as session:
                actor = Actor(session.get_one(User, owner), "web")
                close = Triage(action=TriageAction.close, note="Called them: a billing mix-up")
                triage(session, cta_id, close, actor, SECOND)
            closed.append(cta_id)

    sa.event.listen(engine, "before_cursor_execute", close_meanwhile)
    result = run_daily(engine, SECOND, rules, settings, on_step=lambda s: current.update(step=s))
    sa.event.remove(engine, "before_cursor_execute", close_meanwhile)
    assert result.run.status == "succeeded", result.run.errors
    assert closed == [cta_id]
    with session_scope(session_factory(engine)) as session:
        cta = session.get_one(Cta, cta_id)
        seen = (cta.status, cta.outcome_note, cta.closed_on, cta.fire_count, cta.last_fired_on)
    # Planned as "deduplicated" (it fired again): left as closed, not fired again.
    assert seen == (CtaStatus.closed, "Called them: a billing mix-up", SECOND, 1, FIRST)
    console.dispose()
    engine.dispose()


class Stopped(BaseException):
    """The worker killed between two steps (not an error a step could catch)."""


def stored(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """What the day left in the database, without row ids, clock times and e-mail Message-IDs
    (which differ between two databases)."""
    tables = [
        "metric_snapshot",
        "health_score",
        "lifecycle_stage",
        "cta",
        "cta_step",
        "cta_event",
        "rule_evaluation",
        "outbox_message",
    ]
    metadata = sa.MetaData()
    kept: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in tables:
            table = sa.Table(name, metadata, autoload_with=conn)
            columns = [
                c
                for c in table.c
                if c.name not in ("id", "at", "message_id") and not c.name.endswith("_at")
            ]
            rows = conn.execute(sa.select(*columns)).all()
            kept[name] = sorted(tuple(str(v) for v in row) for row in rows)
    return kept


def _daily(engine: sa.Engine, store: EventStore, data_dir: Path, **options: Any) -> Any:
    settings = PlaybookSettings(mail_from="tenure@example.com")
    return run_daily(
        engine, FIRST, load_ruleset(), settings, store=store, data_dir=data_dir, **options
    )


# The tables holding rows when the run stops before the step.
STORED_BEFORE = {
    "health": {"metric_snapshot"},
    "follow_ups": {
        *("metric_snapshot", "health_score", "lifecycle_stage"),
        *("cta", "cta_step", "cta_event", "rule_evaluation"),
    },
}


@pytest.mark.parametrize("stop_before", sorted(STORED_BEFORE))
def test_a_run_stopped_between_steps_is_resumed_to_the_same_result(
    backend: str,
    migrated_template: Callable[[str], str],
    tmp_path: Path,
    stop_before: str,
) -> None:
    twins = []
    for name in ("whole", "stopped"):
        engine = create_engine(migrated_template(backend))
        seed(engine)
        data_dir = tmp_path / name
        data_dir.mkdir()
        twins.append((engine, usage(EventStore(data_dir / "events")), data_dir))
    (whole, whole_store, whole_dir), (stopped, stopped_store, stopped_dir) = twins
    assert _daily(whole, whole_store, whole_dir).run.status == "succeeded"

    def kill(step: str) -> None:
        if step == stop_before:
            raise Stopped

    with pytest.raises(Stopped):
        _daily(stopped, stopped_store, stopped_dir, on_step=kill)
    # The steps before the stop are stored whole, none after it (the digest is a follow-up).
    done = {t for t, rows in stored(stopped).items() if rows}
    assert done == STORED_BEFORE[stop_before]
    # The next worker on the data folder takes the day over (the dead one's lock went with it).
    resumed = _daily(stopped, stopped_store, stopped_dir)
    assert (resumed.run.status, resumed.run.attempts) == ("succeeded", 2)
    after = stored(stopped)
    assert after == stored(whole)
    assert all(after[t] for t in ("metric_snapshot", "health_score", "cta", "outbox_message"))
    whole.dispose()
    stopped.dispose()


def rows_in(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


# A fault in the middle of a step's writing: the statement that fails and its how-many-th run,
# the rows each table the step writes keeps, and what the retry then does. The rules step has
# inserted its CTAs when it records its first decision: nothing of it is kept. The KPIs step
# commits quarter by quarter (jobs.daily._kpis_step): the whole first quarter is kept (its four
# groupings, five rows) and the retry computes the eleven others.
FAULTS = {
    "rules": (
        ("INSERT INTO rule_evaluation", 1),
        {"cta": 0, "cta_step": 0, "rule_evaluation": 0},
        # The seeded three (acme: renewal, detractor; globex: champion left), both red on health.
        {"created": 5},
    ),
    "kpis": (
        ("INSERT INTO kpi_figures ", len(GroupBy) + 1),
        {"kpi_figures": len(GroupBy), "kpi_figures_row": 5},
        {"quarters_computed": 11, "quarters_unchanged": 1},
    ),
}


@pytest.mark.parametrize("step", sorted(FAULTS))
def test_a_step_that_fails_after_writing_keeps_only_whole_work(
    database_url: str, data_dir: Path, step: str
) -> None:
    engine = create_engine(database_url)
    seed(engine)
    store = usage(EventStore(data_dir / "events"))
    (statement_head, nth), kept, redone = FAULTS[step]
    seen = []

    def full_disk(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(statement_head):
            seen.append(statement)
            if len(seen) == nth:
                raise OSError("disk full")

    sa.event.listen(engine, "before_cursor_execute", full_disk)
    failed = _daily(engine, store, data_dir)
    sa.event.remove(engine, "before_cursor_execute", full_disk)
    assert failed.run.status == "failed"
    assert [e["step"] for e in failed.run.errors] == [step]
    assert "OSError: disk full" in failed.run.errors[0]["error"]
    assert {table: rows_in(engine, table) for table in kept} == kept
    half = stored(engine)
    assert half["metric_snapshot"] and half["health_score"] and half["lifecycle_stage"]
    retried = _daily(engine, store, data_dir)
    assert retried.run.status == "succeeded"
    assert all(rows_in(engine, table) for table in kept)
    assert {k: retried.run.counts[step][k] for k in redone} == redone
    engine.dispose()
