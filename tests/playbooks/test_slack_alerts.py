"""Slack alerts against Slack's Web API faked on loopback (tests/connectors/fake_slack.py), on
SQLite and PostgreSQL: the day's events queued once per account and destination, posted to the
channel and the CSM's direct messages, never twice on a re-run; 429 waits Retry-After; a sender
killed mid-post catches up exactly (only the cut-off post repeats)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import Forbidden, InvalidInput
from tenure.model import AuditLog, Connection, CtaEvent, SlackAlert, User, UserRole
from tenure.playbooks import alerts_service
from tenure.playbooks.alerts_service import SlackOptions
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.faults import EXIT_CODE
from tenure.playbooks.rules import load_ruleset
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f
from tests.connectors.fake_slack import TOKEN, FakeSlack, Workspace

SECRET = "s" * 48
TODAY = date(2026, 12, 6)
URL = "https://cs.example.com"
QUEUED = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)  # by the daily run
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def workspace() -> Workspace:
    return Workspace(
        users={"maria@acme-cs.com": "U0MARIA", "admin@acme-cs.com": "U0ADMIN"},
        channels={"#cs-alerts": "C0ALERTS", "C0ALERTS": "C0ALERTS"},
    )


@pytest.fixture
def slack(workspace: Workspace) -> Iterator[FakeSlack]:
    fake = FakeSlack(workspace)
    yield fake
    fake.stop()


def book(session: Session) -> dict[str, int]:
    """Three accounts of Maria's, each with something that happened today:
    - Acme: health yellow 60 → red 38, churn risk 30 % → 62 %, its champion left two days ago and
      a CTA about it opened today (four events, one message per destination);
    - Globex: health red yesterday and today (no alert: it did not turn red today);
    - Initech: churn risk 20 % → 45 %, under the 50 % threshold (no alert)."""
    maria = f.user(session, email="maria@acme-cs.com", name="Maria Silva")
    acme = f.account(session, external_id="acme", name="Acme & Sons", owner=maria)
    globex = f.account(session, external_id="globex", owner=maria)
    initech = f.account(session, external_id="initech", owner=maria)
    yesterday = TODAY - timedelta(days=1)
    f.health_score(session, acme, as_of=yesterday, score=60)
    f.health_score(session, acme, as_of=TODAY, score=38, previous=60, usage_points=2)
    f.health_score(session, globex, as_of=yesterday, score=40)
    f.health_score(session, globex, as_of=TODAY, score=35, previous=40)
    f.churn_risk_score(session, acme, as_of=yesterday, probability=0.30)
    f.churn_risk_score(session, acme, as_of=TODAY, probability=0.62)
    f.churn_risk_score(session, initech, as_of=yesterday, probability=0.20)
    f.churn_risk_score(session, initech, as_of=TODAY, probability=0.45)
    f.contact(
        session, acme, external_id="Ada Byron", roles=["champion"], left_on=TODAY - timedelta(2)
    )
    cta = f.cta(session, acme, owner=maria, title="Champion left", today=TODAY)
    cta.rule_key = "champion_left"
    cta.facts = [
        {"fact": "champion_left_days_ago", "op": "<=", "threshold": 30, "value": 2, "passed": True}
    ]
    session.add(CtaEvent(cta_id=cta.id, kind="created", on_date=TODAY, detail={}))
    session.flush()
    return {"acme": acme.id, "globex": globex.id, "initech": initech.id, "maria": maria.id}


def maria_of(session: Session) -> User:
    found = session.scalar(sa.select(User).where(User.email == "maria@acme-cs.com"))
    assert found is not None
    return found


def connect(session: Session, url: str, **options: object) -> None:
    admin = session.scalar(sa.select(User).where(User.email == "admin@acme-cs.com"))
    if admin is None:
        admin = f.user(session, email="admin@acme-cs.com", role=UserRole.admin)
    alerts_service.connect_slack(
        session,
        Actor(admin, "cli"),
        SECRET,
        bot_token=TOKEN,
        options=SlackOptions(**{"channel": "#cs-alerts", **options}),  # type: ignore[arg-type]
        base_url=url,
    )


def statuses(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(SlackAlert.status).order_by(SlackAlert.id)))


def send(engine: sa.Engine, at: datetime, **settings: object) -> alerts_service.SlackReport:
    factory = session_factory(engine)
    with session_scope(factory) as session:
        client = alerts_service.slack_client(session, SECRET)
    assert client is not None
    return alerts_service.send_alerts(
        factory,
        client,
        PlaybookSettings(**settings),
        now=lambda: at,  # type: ignore[arg-type]
    )


def test_the_days_alerts_go_once_to_the_channel_and_the_csm(
    database_url: str, slack: FakeSlack, workspace: Workspace
) -> None:
    engine = create_engine(database_url)
    ruleset = load_ruleset(None)
    with session_scope(session_factory(engine)) as session:
        connect(session, slack.url)
        ids = book(session)
        # Maria's other account: its champion left too; her direct message lists both.
        other = f.account(session, external_id="hooli", name="Hooli", owner=maria_of(session))
        f.contact(session, other, external_id="Bo Li", roles=["champion"], left_on=TODAY)
        counts = alerts_service.queue_alerts(
            session, TODAY, public_url=URL, ruleset=ruleset, now=QUEUED
        )
        # Re-running the day queues nothing more.
        again = alerts_service.queue_alerts(
            session, TODAY, public_url=URL, ruleset=ruleset, now=QUEUED
        )
    # The channel: a message per account (Acme, Hooli); Maria: one message for both.
    assert counts == {
        "queued": 3,
        "health_red_events": 2,
        "risk_crossed_events": 2,
        "champion_left_events": 4,
        "cta_assigned_events": 2,
    }
    assert again["queued"] == 0
    now = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    report = send(engine, now)
    assert (report.sent, report.failed, report.rate_limited) == (3, 0, 0)
    assert send(engine, now).sent == 0
    channel, hooli, direct = workspace.posted
    assert [p["channel"] for p in workspace.posted] == ["C0ALERTS", "C0ALERTS", "D0MARIA"]
    assert hooli["text"] == "Hooli: Champion left: Bo Li, on 2026-12-06"
    assert direct["text"] == "2 of your accounts need you: Acme & Sons, Hooli"
    digest = [b["text"]["text"] for b in direct["blocks"] if b["type"] == "section"]
    assert digest[1].splitlines()[:2] == [
        f"*<{URL}/accounts/{ids['acme']}|Acme &amp; Sons>*",
        "• *Health turned red: 38 of 100 (was 60, yellow)*",
    ]
    assert channel["text"] == (
        "Acme & Sons: Health turned red: 38 of 100 (was 60, yellow); "
        "Churn risk 62 % (was 30 %), now among the accounts most at risk; "
        "Champion left: Ada Byron, on 2026-12-04; "
        "New CTA for Maria Silva: Champion left (high priority, due 2026-12-13)"
    )
    sections = [b["text"]["text"] for b in channel["blocks"] if b["type"] == "section"]
    assert sections[0] == f"*<{URL}/accounts/{ids['acme']}|Acme &amp; Sons>*"
    # The measures that lost the most points: 80 - 36, then 20 - 2.
    assert sections[1].splitlines()[1] == (
        "Weakest: Champion present: yes (36 of 80 points); "
        "License utilization: 10 % (2 of 20 points)"
    )
    assert "Raising it: " in sections[2]
    # The CTA's own words: why it fired, the rule's goal and what it is about.
    assert sections[4].splitlines()[1:] == [
        "Why: Champion left 2 days ago (at most 30 days ago)",
        "Goal: Meet the new champion and restate the outcome they are accountable for",
        "A contact with the champion role left the customer in the last 30 days.",
    ]
    # The next day: the departure and the CTA are within the look-back, but already alerted.
    with session_scope(session_factory(engine)) as session:
        later = alerts_service.queue_alerts(
            session, TODAY + timedelta(days=1), public_url=URL, ruleset=ruleset
        )
    assert later["queued"] == 0
    assert statuses(engine) == ["sent", "sent", "sent"]
    engine.dispose()


def test_429_waits_retry_after_then_posts(
    database_url: str, slack: FakeSlack, workspace: Workspace
) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        book(session)
        connect(session, slack.url, to_owner=False)
        alerts_service.queue_alerts(session, TODAY, public_url=URL, now=QUEUED)
    workspace.queued["chat.postMessage"] = [(429, "30", "ratelimited")]
    start = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    first = send(engine, start)
    assert (first.sent, first.rate_limited, first.retried) == (0, 1, 0)
    with engine.connect() as conn:
        row = conn.execute(sa.select(SlackAlert)).one()
    assert row.status == "pending" and row.attempts == 0
    assert row.last_error == "posting to #cs-alerts: Slack asked to slow down"
    assert send(engine, start + timedelta(seconds=20)).sent == 0  # still waiting
    assert send(engine, start + timedelta(seconds=31)).sent == 1
    assert len(workspace.posted) == 1
    assert workspace.calls.count("chat.postMessage") == 2
    engine.dispose()


def test_failures_back_off_and_a_wrong_channel_fails_in_plain_words(
    database_url: str, slack: FakeSlack, workspace: Workspace
) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        book(session)
        connect(session, slack.url, channel="#nowhere")
        alerts_service.queue_alerts(session, TODAY, public_url=URL, now=QUEUED)
    workspace.queued["users.lookupByEmail"] = [(500, None, "internal_error")]
    start = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    report = send(engine, start, delivery_backoff_seconds=60)
    assert (report.sent, report.retried, report.failed) == (0, 1, 1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SlackAlert).order_by(SlackAlert.id)).all()
    assert [(r.status, r.last_error) for r in rows] == [
        ("failed", "posting to #nowhere: Slack has no channel by that name the app can see"),
        ("pending", "finding maria@acme-cs.com in Slack: Slack answered internal_error"),
    ]
    assert send(engine, start + timedelta(seconds=59)).sent == 0
    assert send(engine, start + timedelta(seconds=61)).sent == 1
    assert [p["channel"] for p in workspace.posted] == ["D0MARIA"]
    engine.dispose()


def test_only_admins_connect_and_the_token_is_sealed(session: Session) -> None:
    csm = f.user(session, email="csm@acme-cs.com")
    options = SlackOptions(channel="#cs-alerts")
    with pytest.raises(Forbidden):
        alerts_service.connect_slack(
            session, Actor(csm, "web"), SECRET, bot_token=TOKEN, options=options
        )
    with pytest.raises(InvalidInput, match="choose a channel, direct messages"):
        connect(session, "http://127.0.0.1:9/api/", channel=None, to_owner=False)
    connect(session, "http://127.0.0.1:9/api/")
    stored = session.scalar(sa.select(Connection).where(Connection.vendor == "slack"))
    assert stored is not None and TOKEN not in stored.credentials
    entry = session.scalar(sa.select(AuditLog).where(AuditLog.entity == "connection"))
    assert entry is not None and TOKEN not in str(entry.after)
    read = alerts_service.slack_connection(session)
    assert read is not None and TOKEN not in read.model_dump_json()
    assert read.alert_names == [
        "Health turned red",
        "Churn risk rose",
        "Champion left",
        "A CTA assigned",
    ]
    with pytest.raises(ValueError, match="unknown alert nps"):
        SlackOptions(alerts=["nps"])


@pytest.mark.slow
def test_a_sender_killed_mid_post_catches_up_exactly(
    database_url: str, slack: FakeSlack, workspace: Workspace, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        book(session)
        tom = f.user(session, email="tom@acme-cs.com", name="Tom")
        for name in ("hooli", "umbrella"):
            other = f.account(session, external_id=name, owner=tom)
            f.contact(
                session, other, external_id=f"{name} champ", roles=["champion"], left_on=TODAY
            )
        connect(session, slack.url, to_owner=False)
        alerts_service.queue_alerts(session, TODAY, public_url=URL, now=QUEUED)
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(tmp_path),
        "TENURE_SECRET_KEY": SECRET,
    }
    command = [sys.executable, "-m", "tenure.cli.main", "alerts", "send"]
    # Dies right after Slack accepted the second post, before recording it.
    crashed = subprocess.run(
        command,
        env={**env, "TENURE_FAULT_POINT": "slack.after_send:2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    assert statuses(engine) == ["sent", "sending", "pending"]
    restarted = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    assert "sent: 2" in restarted.stdout and "resumed: 1" in restarted.stdout
    texts = [p["text"] for p in workspace.posted]
    # Every alert arrived; only the cut-off one twice.
    assert len(texts) == 4 and texts[1] == texts[2] and len(set(texts)) == 3
    assert statuses(engine) == ["sent"] * 3
    engine.dispose()


def test_the_daily_run_queues_after_the_ctas_and_posts(
    database_url: str, slack: FakeSlack, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenure.jobs.daily import run_daily

    monkeypatch.setenv("TENURE_SECRET_KEY", SECRET)
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        book(session)
        connect(session, slack.url, to_owner=False, alerts=["health_red", "champion_left"])
    settings = PlaybookSettings(public_url=URL)
    result = run_daily(engine, TODAY, load_ruleset(None), settings)
    steps = {step["name"]: step for step in result.step_results}
    assert steps["slack_alerts"]["error"] is None and steps["slack"]["error"] is None
    assert steps["slack_alerts"]["counts"] == {
        "queued": 1,
        "health_red_events": 1,
        "champion_left_events": 1,
    }
    assert steps["slack"]["counts"]["sent"] == 1
    assert [name for name in steps][-2:] == ["webhooks", "slack"]
    # Forced again: every event was alerted, nothing is posted twice.
    again = run_daily(engine, TODAY, load_ruleset(None), settings, force=True)
    counts = {step["name"]: step["counts"] for step in again.step_results}
    assert counts["slack_alerts"]["queued"] == 0 and counts["slack"]["sent"] == 0
    assert len(workspace.posted) == 1
    assert workspace.posted[0]["text"].startswith("Acme & Sons: Health turned red: 38 of 100")
    engine.dispose()


def test_ctas_handed_over_by_a_reassignment_are_alerted_at_once(
    database_url: str, slack: FakeSlack, workspace: Workspace
) -> None:
    from tenure.model import OutboxMessage
    from tenure.model.base import utcnow
    from tenure.portfolio.owners import reassign_owner
    from tenure.portfolio.schemas import ReassignRequest

    workspace.users["omar@acme-cs.com"] = "U0OMAR"
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        connect(session, slack.url)
        now = utcnow()  # after Slack was connected: CTAs assigned before it are not news
        admin = session.scalar(sa.select(User).where(User.email == "admin@acme-cs.com"))
        maria = f.user(session, email="maria@acme-cs.com", name="Maria Silva")
        omar = f.user(session, email="omar@acme-cs.com", name="Omar Haddad")
        acme = f.account(session, external_id="acme", name="Acme & Sons", owner=maria)
        cta = f.cta(
            session, acme, owner=maria, title="Detractor in the last survey", today=now.date()
        )
        cta.facts = [
            {
                "fact": "nps_category",
                "op": "==",
                "threshold": "detractor",
                "value": "detractor",
                "passed": True,
            }
        ]
        session.flush()
        session.expire(cta)  # read back as stored, as a reassignment in a request finds it
        assert admin is not None
        result = reassign_owner(
            session,
            ReassignRequest(account_ids=[acme.id], owner_id=omar.id),
            Actor(admin, "web"),
            now,
        )
        assert result.reassigned == [acme.id]
        queued = session.execute(
            sa.select(SlackAlert.channel, SlackAlert.user_email, SlackAlert.text).order_by(
                SlackAlert.id
            )
        ).all()
        mail = session.scalars(sa.select(OutboxMessage)).one()
        ids = {"acme": acme.id}
    # Queued in the reassignment's own transaction, before any daily run.
    assert [(c, e) for c, e, _ in queued] == [("#cs-alerts", None), (None, "omar@acme-cs.com")]
    assert queued[0][2] == (
        "Acme & Sons: CTA reassigned to Omar Haddad: Detractor in the last survey "
        f"(high priority, due {now.date() + timedelta(days=7)})"
    )
    assert (mail.recipient, mail.kind, mail.subject) == (
        "omar@acme-cs.com",
        "cta_handover",
        "1 CTA handed to you: Acme & Sons",
    )
    assert "given to you (from Maria Silva)" in mail.body
    assert "Why: Latest NPS answer from a detractor" in mail.body
    assert "/ctas/" in mail.body
    # The worker's next tick posts them; the daily run finds the same events already alerted.
    report = send(engine, now)
    assert report.sent == 2
    assert [p["channel"] for p in workspace.posted] == ["C0ALERTS", "D0OMAR"]
    with session_scope(session_factory(engine)) as session:
        later = alerts_service.queue_alerts(
            session, now.date(), public_url=URL, ruleset=load_ruleset(None)
        )
    assert later["queued"] == 0 and ids
    engine.dispose()
