"""Engagement messages close the loop: a draft with a goal and a check, approved by a person,
sent over SMTP through the outbox (aiosmtpd on loopback), logged as a touchpoint, checked 30 days
later and reported per template."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import Forbidden, InvalidInput, RejectedFile
from tenure.model import (
    Account,
    AccountTeamMember,
    AccountTeamRole,
    EngagementMessage,
    MetricSnapshot,
    OutboxMessage,
    Touchpoint,
    User,
    UserRole,
)
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.outbox import SmtpMailer, send_pending
from tenure.store.database import create_engine
from tenure.success import engagement_service as engagement
from tenure.success.check import BaseCheck
from tenure.success.schemas import EngagementRead, GoalCheck, MessageCreate
from tests import factories as f
from tests.ingest.helpers import counts, run_import, write_rows
from tests.playbooks.test_outbox import Inbox, smtp_server  # noqa: F401  (the fixture)

SENT = date(2026, 3, 2)
SEATS_BACK = GoalCheck(metric="license_utilization", comparison="at_least", target=0.6)
PROMOTER = GoalCheck(metric="nps_latest", comparison="at_least", target=9, after_days=30)


def _book(session: Session) -> tuple[Actor, Actor]:
    """Acme, Cleo's account: Jane the sponsor; seats 40 % used when the message goes out and
    65 % thirty days later. No NPS answer ever."""
    cleo = f.user(session, email="cleo@example.com", name="Cleo CSM")
    vic = f.user(session, email="vic@example.com", name="Vic", role=UserRole.viewer)
    acme = f.account(session, external_id="acme", name="Acme", owner=cleo)
    f.contract(session, acme, starts_on=date(2025, 6, 1), ends_on=date(2026, 5, 31))
    f.contact(session, acme, external_id="jane", email="jane@acme.example", roles=["sponsor"])
    for day, used in ((SENT, 0.4), (SENT + timedelta(days=30), 0.65)):
        session.add(
            MetricSnapshot(account_id=acme.id, as_of=day, values={"license_utilization": used})
        )
    session.flush()
    return Actor(cleo, "cli"), Actor(vic, "web")


def test_a_message_goes_out_is_logged_and_its_goal_is_checked(
    database_url: str,
    smtp_server: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp_server
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        cleo, vic = _book(session)
        seats = engagement.create_draft(
            session,
            MessageCreate(
                account="acme", moment="risk_outreach", goal="Seats back in use", check=SEATS_BACK
            ),
            cleo,
            SENT,
        )
        nps = engagement.create_draft(
            session,
            MessageCreate(
                account="Acme", moment="risk_outreach", goal="A promoter again", check=PROMOTER
            ),
            cleo,
            SENT,
        )
        assert (seats.status, seats.recipient) == ("draft", "jane@acme.example")
        assert seats.check == "License utilization at least 60 % within 30 days"
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        with pytest.raises(Forbidden):
            engagement.approve(session, seats.id, vic, SENT)
        approved = [engagement.approve(session, m.id, cleo, SENT) for m in (seats, nps)]
        assert {(m.status, m.delivery, m.check_on) for m in approved} == {
            ("sent", "pending", SENT + timedelta(days=30))
        }
        touchpoint = session.get_one(Touchpoint, approved[0].touchpoint_id)
        assert touchpoint.kind.value == "email" and [
            c.external_id for c in touchpoint.attendees
        ] == ["jane"]
        assert "Goal: Seats back in use" in (touchpoint.notes or "")
        with pytest.raises(InvalidInput, match="is sent, not a draft"):
            engagement.approve(session, seats.id, cleo, SENT)
        session.commit()

    settings = PlaybookSettings(smtp_host="127.0.0.1", smtp_port=port)
    assert send_pending(engine, SmtpMailer(settings), settings).sent == 2
    with Session(engine) as session:
        queued = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert inbox.message_ids == [m.message_id for m in queued]
        assert {m.kind for m in queued} == {"engagement"}
        assert engagement.check_goals(session, SENT + timedelta(days=29)) == []
        checked = {m.goal: m for m in engagement.check_goals(session, SENT + timedelta(days=30))}
        assert checked["Seats back in use"].goal_met is True
        assert checked["Seats back in use"].result == (
            "License utilization 65 % on 2026-04-01 (was 40 % when sent): met"
        )
        assert checked["Seats back in use"].delivery == "sent"
        assert checked["A promoter again"].goal_met is None
        assert checked["A promoter again"].result == (
            "Latest NPS answer: no value stored between 2026-03-02 and 2026-04-01"
        )
        # Checked once: the next day's run finds nothing left to check.
        assert engagement.check_goals(session, SENT + timedelta(days=31)) == []
        report = {r.moment: r for r in engagement.goal_report(session)}
        outreach = report["risk_outreach"]
        assert (outreach.sent, outreach.met, outreach.not_met, outreach.not_measurable) == (
            2,
            1,
            0,
            1,
        )
        assert outreach.met_share == 1.0 and outreach.template == "Risk outreach"
        assert report["advocacy_ask"].sent == 0 and report["advocacy_ask"].met_share is None
        session.commit()
    engine.dispose()


def test_a_message_needs_a_goal_and_a_way_to_check_it(session: Session) -> None:
    cleo, _ = _book(session)

    def create(goal: str, check: GoalCheck) -> None:
        engagement.create_draft(
            session,
            MessageCreate(account="acme", moment="risk_outreach", goal=goal, check=check),
            cleo,
            SENT,
        )

    with pytest.raises(InvalidInput, match="every customer interaction needs a goal"):
        create(" ", SEATS_BACK)
    with pytest.raises(InvalidInput, match="say how the goal will be checked"):
        create("Seats back", GoalCheck())
    with pytest.raises(InvalidInput, match=r"check\.metric: .*'seat_use'"):
        create("Seats back", GoalCheck(metric="seat_use", comparison="at_least", target=1))
    with pytest.raises(InvalidInput, match=r"check\.target: the value license_utilization"):
        create("Seats back", GoalCheck(metric="license_utilization", comparison="at_least"))
    assert session.scalar(sa.select(sa.func.count()).select_from(EngagementMessage)) == 0


def test_a_milestone_goal_is_met_when_reached_before_the_check(session: Session) -> None:
    cleo, _ = _book(session)
    from tenure.model import Milestone, SuccessPlan

    acme_id = session.scalar(sa.select(MetricSnapshot.account_id).limit(1))
    created = engagement.create_draft(
        session,
        MessageCreate(
            account="acme",
            moment="risk_outreach",
            goal="Kick-off booked",
            check=GoalCheck(milestone="kickoff", after_days=14),
        ),
        cleo,
        SENT,
    )
    engagement.approve(session, created.id, cleo, SENT)
    plan = SuccessPlan(account_id=acme_id, segment="smb", started_on=SENT)
    session.add(plan)
    session.flush()
    session.add(
        Milestone(
            plan_id=plan.id,
            account_id=acme_id,
            key="kickoff",
            name="Kick-off",
            type="success",
            owner="customer",
            due_on=SENT + timedelta(days=10),
            reached_on=SENT + timedelta(days=9),
        )
    )
    session.flush()
    (checked,) = engagement.check_goals(session, SENT + timedelta(days=14))
    assert (checked.goal_met, checked.result) == (True, "milestone 'kickoff' reached on 2026-03-11")


def test_a_goal_already_reached_when_sent_is_said_so(session: Session) -> None:
    cleo, _ = _book(session)
    later = SENT + timedelta(days=30)  # seat use 65 % that day: the target is already reached
    created = engagement.create_draft(
        session,
        MessageCreate(
            account="acme",
            moment="risk_outreach",
            goal="Seats kept in use",
            check=GoalCheck(
                metric="license_utilization", comparison="at_least", target=0.6, after_days=7
            ),
        ),
        cleo,
        later,
    )
    engagement.approve(session, created.id, cleo, later)
    acme_id = session.scalar(sa.select(MetricSnapshot.account_id).limit(1))
    session.add(
        MetricSnapshot(
            account_id=acme_id,
            as_of=later + timedelta(days=7),
            values={"license_utilization": 0.7},
        )
    )
    session.flush()
    (checked,) = engagement.check_goals(session, later + timedelta(days=7))
    assert (checked.goal_met, checked.result) == (
        True,
        "License utilization 70 % on 2026-04-08 (was 65 % when sent): met, but it was already "
        "met when sent",
    )


def _message(**changes: object) -> dict[str, object]:
    """A risk outreach Cleo sent Jane on SENT, as Tenure's own messages file holds it."""
    return {
        "external_id": "acme-g1",
        "account_external_id": "acme",
        "contact_external_id": "jane",
        "sender_email": "cleo@example.com",
        "moment": "risk_outreach",
        "goal": "License utilization up to 50 %",
        "metric": "license_utilization",
        "comparison": "at_least",
        "target": 0.5,
        "check_after_days": 30,
        "subject": "Getting more of your team on board",
        "body": "Hello, only 4 of your 10 seats were used…",
        "sent_on": SENT.isoformat(),
    } | changes


def test_sent_messages_are_imported_logged_and_judged_like_approved_ones(
    session: Session, tmp_path: Path
) -> None:
    """The demo company's messages come in through `tenure import messages`: sent, addressed to
    the contact, logged as the e-mail touchpoint they were, checked 30 days on; the baseline is
    the value stored up to the send day. A re-import changes nothing; a bad row is named."""
    _book(session)
    path = write_rows(tmp_path, "messages", "jsonl", [_message()])
    assert counts(run_import(session, "messages", path)) == (1, 0, 0)
    row = session.scalars(sa.select(EngagementMessage)).one()
    assert (row.status.value, row.recipient, row.sender, row.check_on) == (
        "sent",
        "jane@acme.example",
        "cleo@example.com",
        SENT + timedelta(days=30),
    )
    touchpoint = session.get(Touchpoint, row.touchpoint_id)
    assert touchpoint is not None and touchpoint.kind.value == "email"
    assert [c.external_id for c in touchpoint.attendees] == ["jane"]
    assert counts(run_import(session, "messages", path)) == (0, 0, 1)
    assert session.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 1

    (judged,) = engagement.check_goals(session, SENT + timedelta(days=30))
    assert judged.goal_met is True
    assert judged.result == ("License utilization 65 % on 2026-04-01 (was 40 % when sent): met")
    unknown = write_rows(
        tmp_path, "bad", "jsonl", [_message(external_id="acme-g2", moment="thank_you")]
    )
    with pytest.raises(RejectedFile, match="moment"):
        run_import(session, "messages", unknown)
    no_target = write_rows(
        tmp_path, "bad2", "jsonl", [_message(external_id="acme-g3", target=None)]
    )
    with pytest.raises(RejectedFile, match=r"target.*missing"):
        run_import(session, "messages", no_target)


def test_the_sanity_report_counts_message_goals_and_flags_none_sent(
    session: Session, tmp_path: Path
) -> None:
    from tenure.success.check_service import base_check
    from tenure.success.fit import load_fit_config

    _book(session)
    day = SENT + timedelta(days=30)
    report = base_check(session, day, load_fit_config())
    assert "messages.goal: empty" in report.flags
    run_import(session, "messages", write_rows(tmp_path, "m", "jsonl", [_message()]))
    assert _goals(base_check(session, day, load_fit_config())) == {"awaiting its check": 1}
    engagement.check_goals(session, day)
    report = base_check(session, day, load_fit_config())
    assert _goals(report) == {"met": 1} and "messages.goal: empty" not in report.flags
    by_template = next(o for o in report.outputs if o.output == "risk_outreach.goal")
    assert by_template.counts == {"met": 1}
    # A goal already reached on the day it went out is told apart from one the message moved.
    run_import(
        session,
        "messages",
        write_rows(tmp_path, "m2", "jsonl", [_message(external_id="acme-g2", target=0.3)]),
    )
    engagement.check_goals(session, day)
    assert _goals(base_check(session, day, load_fit_config())) == {
        "met": 1,
        "met, but already met when sent": 1,
    }


def _goals(report: BaseCheck) -> dict[str, int]:
    return next(o.counts for o in report.outputs if (o.framework, o.output) == ("messages", "goal"))


def test_the_message_list_names_accounts_people_and_deliveries_in_a_few_statements(
    session: Session,
) -> None:
    """Three messages on two accounts, drafted by Cleo, one approved by Ada: each row names its
    own account, author, approver and delivery; the list reads them in as many statements for
    three messages as for one (it read them per message: 666 statements for 180 messages)."""
    cleo, _ = _book(session)
    ada = f.user(session, email="ada@example.com", name="Ada Admin", role=UserRole.admin)
    beta = f.account(session, external_id="beta", name="Beta", owner=cleo.user)
    f.contract(session, beta, starts_on=date(2025, 6, 1), ends_on=date(2026, 5, 31))
    f.contact(session, beta, external_id="bob", email="bob@beta.example", roles=["sponsor"])
    drafted = [
        engagement.create_draft(
            session,
            MessageCreate(account=name, moment="risk_outreach", goal=goal, check=SEATS_BACK),
            cleo,
            SENT,
        )
        for name, goal in (("acme", "Seats back"), ("beta", "Beta seats"), ("acme", "Again"))
    ]
    engagement.approve(session, drafted[1].id, Actor(ada, "web"), SENT)
    session.flush()
    session.expunge_all()  # as a request finds them: nothing loaded yet

    statements: list[str] = []
    sa.event.listen(session.bind, "before_cursor_execute", lambda *a: statements.append(a[2]))
    listed = engagement.list_messages(session)
    many = len(statements)
    statements.clear()
    engagement.list_messages(session, account_id=beta.id)
    one = len(statements)

    assert [(m.goal, m.account_name, m.drafted_by, m.approved_by, m.delivery) for m in listed] == [
        ("Again", "Acme", "Cleo CSM", None, None),
        ("Beta seats", "Beta", "Cleo CSM", "Ada Admin", "pending"),
        ("Seats back", "Acme", "Cleo CSM", None, None),
    ]
    assert many == one == 4


def test_the_drafts_each_person_may_approve_are_asked_for_all_at_once(session: Session) -> None:
    """Drafts on Acme (Cleo's), Beta (Bo's, Cleo on its account team) and Gamma (Max's own):
    Cleo may approve Acme's and Beta's, Max (Cleo's manager, not Bo's) Acme's and Gamma's, Vic
    (a viewer) none, Ada (admin) all; the sent one is no draft. The page asked per draft (an
    account read, the manager's team, the account team): as many statements for three drafts
    as for one now."""
    cleo, vic = _book(session)
    max_ = f.user(session, email="max@example.com", name="Max", role=UserRole.manager)
    cleo.user.manager_id = max_.id
    bo = f.user(session, email="bo@example.com", name="Bo")
    ada = f.user(session, email="ada@example.com", name="Ada", role=UserRole.admin)
    for ext, owner in (("beta", bo), ("gamma", max_)):
        account = f.account(session, external_id=ext, name=ext.title(), owner=owner)
        f.contract(session, account, starts_on=date(2025, 6, 1), ends_on=date(2026, 5, 31))
        f.contact(session, account, external_id=f"{ext}-c", email=f"c@{ext}.example")
    beta = session.scalars(sa.select(Account).where(Account.external_id == "beta")).one()
    session.add(
        AccountTeamMember(account_id=beta.id, user_id=cleo.user.id, role=AccountTeamRole.csm)
    )
    session.flush()
    admin = Actor(ada, "web")
    for name in ("acme", "beta", "gamma", "acme"):
        draft = MessageCreate(account=name, moment="risk_outreach", goal=name, check=SEATS_BACK)
        engagement.create_draft(session, draft, admin, SENT)
    sent = engagement.list_messages(session)[-1]
    engagement.approve(session, sent.id, admin, SENT)
    session.flush()
    messages = engagement.list_messages(session)
    goal = {m.id: m.goal for m in messages}

    def approvable(user: User, shown: list[EngagementRead]) -> tuple[list[str], int]:
        statements: list[str] = []
        listen = lambda *a: statements.append(a[2])  # noqa: E731
        sa.event.listen(session.bind, "before_cursor_execute", listen)
        ids = engagement.approvable(session, user, shown)
        sa.event.remove(session.bind, "before_cursor_execute", listen)
        return sorted(goal[i] for i in ids), len(statements)

    assert approvable(cleo.user, messages)[0] == ["acme", "beta"]
    assert approvable(max_, messages)[0] == ["acme", "gamma"]
    assert approvable(vic.user, messages)[0] == []
    assert approvable(ada, messages)[0] == ["acme", "beta", "gamma"]
    one = [m for m in messages if m.goal == "beta"]
    assert approvable(max_, messages)[1] == approvable(max_, one)[1]


def test_a_yes_or_no_goal_reads_as_one() -> None:
    """The demo's renewal preparation asked for 'Sponsor engaged (90 days) at least yes'."""
    sponsor = EngagementMessage(
        metric="sponsor_engaged", comparison="at_least", target=1.0, check_after_days=30
    )
    seats = EngagementMessage(
        metric="license_utilization", comparison="at_least", target=0.6, check_after_days=30
    )
    assert engagement.check_words(sponsor) == "Sponsor engaged (90 days): yes within 30 days"
    assert engagement.check_words(seats) == "License utilization at least 60 % within 30 days"
