"""The daily run: recorded, and running the same as-of date twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tenure.errors import Conflict
from tenure.jobs.daily import run_daily
from tenure.model import DailyRun
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.outbox import FakeMailer
from tenure.playbooks.rules import load_ruleset
from tenure.portfolio import judgements
from tenure.portfolio.signals import current_days
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore
from tests import factories as f

TABLES = ["cta", "cta_step", "cta_event", "rule_evaluation", "outbox_message", "webhook_delivery"]


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES
        }


def seed(engine: sa.Engine) -> None:
    with session_scope(session_factory(engine)) as session:
        csm = f.user(session, email="csm@example.com")
        acme = f.account(session, external_id="acme", owner=csm)
        f.contract(session, acme, arr=50_000, ends_on=date(2026, 5, 1))
        f.nps(session, acme, score=2, on=date(2026, 2, 25))
        globex = f.account(session, external_id="globex", owner=csm)
        f.contract(session, globex, arr=8_000, ends_on=date(2027, 1, 1))
        f.contact(
            session, globex, external_id="gina", roles=["champion"], left_on=date(2026, 2, 27)
        )


def test_daily_run_is_recorded_and_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    seed(engine)
    rules, settings = load_ruleset(), PlaybookSettings(mail_from="tenure@example.com")
    mailer = FakeMailer()
    first = run_daily(engine, date(2026, 3, 1), rules, settings, mailer=mailer)
    assert first.run.status == "succeeded" and not first.skipped
    names = [s["name"] for s in first.run.steps]
    assert names == [
        "milestones",
        "lifecycle",
        "judgements",
        "message_goals",
        "churn",
        "kpis",
        "maturity",
        "ebr_peers",
        "facts",
        "rules",
        "follow_ups",
        "renewal_forecast",
        "family_ranking",
        "outbox",
        "webhooks",
    ]
    assert first.run.counts["rules"] == {
        "created": 3
    }  # acme: renewal + detractor; globex: champion
    assert first.run.counts["follow_ups"] == {"woken": 0, "escalated": 0, "digests": 1}
    # Every account's stage histories are saved; acme renews within 120 days, globex is live.
    assert first.run.counts["lifecycle"] == {
        "model": "laer",
        "land": 0,
        "adopt": 1,
        "expand": 0,
        "renew": 1,
        "no_contract": 0,
    }
    # Each account's judgements are stored after the last step that stages them, and current.
    assert first.run.counts["judgements"] == {"accounts": 2}
    with session_scope(session_factory(engine)) as session:
        assert judgements.current(session, current_days(session))
    assert first.run.counts["outbox"]["sent"] == 1 and len(mailer.sent) == 1
    assert mailer.sent[0]["Subject"] == "Your book today: 3 new, 0 due, 0 renewals"
    before = snapshot(engine)
    again = run_daily(engine, date(2026, 3, 1), rules, settings, mailer=mailer)
    assert again.skipped and again.run.id == first.run.id
    forced = run_daily(engine, date(2026, 3, 1), rules, settings, mailer=mailer, force=True)
    assert forced.run.status == "succeeded" and forced.run.attempts == 2
    assert forced.run.counts["rules"] == {}
    # The KPI quarters' records did not change: the forced re-run keeps the stored figures.
    assert first.run.counts["kpis"]["quarters_computed"] == 12
    assert forced.run.counts["kpis"] == {
        **first.run.counts["kpis"],
        "quarters_computed": 0,
        "quarters_unchanged": 12,
    }
    assert snapshot(engine) == before
    assert len(mailer.sent) == 1
    engine.dispose()


def test_a_failing_step_is_recorded_and_the_run_can_be_retried(database_url: str) -> None:
    engine = create_engine(database_url)
    seed(engine)
    bad = load_ruleset().model_copy(update={"settings": None})  # breaks the rules step
    result = run_daily(engine, date(2026, 3, 1), bad, PlaybookSettings())
    assert result.run.status == "failed"
    assert [e["step"] for e in result.run.errors] == ["rules", "follow_ups"]
    assert snapshot(engine)["cta"] == []  # the failed step left nothing behind
    retried = run_daily(engine, date(2026, 3, 1), load_ruleset(), PlaybookSettings())
    assert retried.run.status == "succeeded" and retried.run.counts["rules"] == {"created": 3}
    engine.dispose()


def test_a_run_in_progress_is_not_started_twice(database_url: str) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        session.add(
            DailyRun(
                as_of=date(2026, 3, 1),
                status="running",
                started_at=datetime(2026, 3, 1, 6, tzinfo=UTC),
            )
        )
    with pytest.raises(Conflict, match="is running since 06:00:00 UTC"):
        run_daily(engine, date(2026, 3, 1), load_ruleset(), PlaybookSettings())
    forced = run_daily(engine, date(2026, 3, 1), load_ruleset(), PlaybookSettings(), force=True)
    assert forced.run.status == "succeeded" and forced.run.attempts == 2
    engine.dispose()


def test_a_fresh_install_skips_scoring_with_the_reason(database_url: str, data_dir: Path) -> None:
    """No account yet (`tenure serve` just started): nothing to score is not a failure."""
    engine = create_engine(database_url)
    result = run_daily(
        engine,
        date(2026, 3, 1),
        load_ruleset(),
        PlaybookSettings(),
        store=EventStore(data_dir / "events"),
        data_dir=data_dir,
    )
    nothing = (
        "no account has metrics for 2026-03-01: there is nothing to score yet "
        "(import accounts and their events with `tenure import`)"
    )
    assert result.run.status == "succeeded"
    assert result.run.skipped == [
        {"step": "health", "reason": nothing},
        {"step": "risk", "reason": nothing},
    ]
    engine.dispose()
