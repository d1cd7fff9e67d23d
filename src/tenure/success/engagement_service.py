"""Engagement messages close the loop: draft → a person approves → outbox → touchpoint → goal
checked N days later → reported per message template.

The communication model's first piece is the Goal, and its last the feedback that shows whether
the goal was met [pub]; here the feedback is a measure named with the message [default]: a
metric reaching a target (``license_utilization`` at least 0.6) or a success-plan milestone
reached, within ``after_days`` of sending. A message without a goal, or without a way to check
it, is refused.

- ``create_draft`` fills the template (:func:`tenure.success.messages_service.draft`) and stores
  the draft with its goal and check; nothing is sent.
- ``approve`` — by someone who may change the account — queues it in the outbox (sent by the
  worker over SMTP), logs an e-mail touchpoint with the contact as attendee, and notes the
  metric's value that day (the baseline) and the day the goal is checked.
- ``check_goals`` (part of the daily run) judges every message whose check day has come: met,
  not met, or not measurable (no stored metric by then), with the value seen.
- ``goal_report``: per template, sent / awaiting / met / not met / not measurable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.crm_schemas import MessageImport
from tenure.accounts.schemas import UpsertCounts
from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, editable_accounts, require_account_editor
from tenure.errors import InvalidInput, NotFound
from tenure.metrics.registry import Unit, get_metric
from tenure.model import (
    Account,
    Contact,
    EngagementMessage,
    MessageStatus,
    MetricSnapshot,
    Milestone,
    OutboxMessage,
    Touchpoint,
    User,
)
from tenure.model.base import utcnow
from tenure.model.touchpoint import TouchpointKind
from tenure.playbooks import outbox
from tenure.success import messages, messages_service
from tenure.success.schemas import EngagementRead, GoalCheck, MessageCreate, TemplateOutcome

TEMPLATE_NAMES = {
    messages.Moment.milestone_reached: "Milestone reached",
    messages.Moment.advocacy_ask: "Advocacy ask",
    messages.Moment.renewal_prep: "Renewal preparation",
    messages.Moment.risk_outreach: "Risk outreach",
}
COMPARISONS = {"at_least": "at least", "at_most": "at most"}


def _moment(value: str) -> messages.Moment:
    try:
        return messages.Moment(value)
    except ValueError:
        names = ", ".join(m.value for m in messages.Moment)
        raise InvalidInput(
            f"moment {value!r} is not a message template; templates: {names}"
        ) from None


def _validated(check: GoalCheck) -> GoalCheck:
    """Exactly one measure, complete: a metric with comparison and target, or a milestone."""
    if (check.metric is None) == (check.milestone is None):
        raise InvalidInput(
            "check: say how the goal will be checked — a metric with a target "
            "(e.g. license_utilization at_least 0.6) or a milestone key, not both"
        )
    if check.metric is not None:
        try:
            get_metric(check.metric)
        except NotFound as error:
            raise InvalidInput(f"check.metric: {error.message}") from None
        if check.comparison not in COMPARISONS:
            raise InvalidInput(f"check.comparison: {check.comparison!r} — use at_least or at_most")
        if check.target is None:
            raise InvalidInput(f"check.target: the value {check.metric} should reach is missing")
    return check


def check_words(row: EngagementMessage) -> str:
    """The check in words: "Licence utilization at least 60 % within 30 days"; a yes/no
    measure as "Sponsor engaged (90 days): yes within 30 days"."""
    if row.metric is not None:
        metric = get_metric(row.metric)
        if metric.unit is Unit.flag:  # "Sponsor engaged at least yes" read as a riddle
            return f"{metric.name}: {metric.format(row.target)} within {row.check_after_days} days"
        return (
            f"{metric.name} {COMPARISONS.get(row.comparison or '', row.comparison)} "
            f"{metric.format(row.target)} within {row.check_after_days} days"
        )
    return f"milestone {row.milestone!r} reached within {row.check_after_days} days"


def _read(session: Session, row: EngagementMessage) -> EngagementRead:
    return _reads(session, [row])[0]


def _reads(session: Session, rows: Sequence[EngagementMessage]) -> list[EngagementRead]:
    """Messages as the page and the API show them; the accounts, deliveries and people they
    name are read in one statement each, not per message."""
    accounts = _by_id(session, Account.name, Account.id, {r.account_id for r in rows})
    deliveries = _by_id(
        session,
        OutboxMessage.status,
        OutboxMessage.id,
        {r.outbox_message_id for r in rows if r.outbox_message_id is not None},
    )
    people = {r.drafted_by_id for r in rows} | {r.approved_by_id for r in rows}
    users = {
        user_id: name or email
        for user_id, name, email in session.execute(
            sa.select(User.id, User.name, User.email).where(User.id.in_(people - {None}))
        )
    }
    found = []
    for row in rows:
        if row.account_id not in accounts:
            raise NotFound(f"account {row.account_id} not found")
        delivery = deliveries.get(row.outbox_message_id)
        found.append(
            EngagementRead(
                id=row.id,
                account_id=row.account_id,
                account_name=accounts[row.account_id],
                moment=row.moment,
                template=TEMPLATE_NAMES[messages.Moment(row.moment)],
                goal=row.goal,
                check=check_words(row),
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                status=row.status.value,
                drafted_by=users.get(row.drafted_by_id) if row.drafted_by_id else None,
                approved_by=users.get(row.approved_by_id) if row.approved_by_id else None,
                sent_on=row.sent_on,
                delivery=None if delivery is None else delivery.value,
                touchpoint_id=row.touchpoint_id,
                check_on=row.check_on,
                goal_met=row.goal_met,
                checked=row.checked_at is not None,
                result=row.result,
            )
        )
    return found


def approvable(session: Session, user: User, messages: Sequence[EngagementRead]) -> set[int]:
    """The drafts among ``messages`` the user may approve (:func:`approve` lets them): those on
    accounts they may change, asked for all drafts at once."""
    drafts = [m for m in messages if m.status == MessageStatus.draft.value]
    owners = _by_id(session, Account.owner_id, Account.id, {m.account_id for m in drafts})
    editable = editable_accounts(session, user, owners)
    return {m.id for m in drafts if m.account_id in editable}


def _by_id(session: Session, value: Any, key: Any, ids: set[int]) -> dict[Any, Any]:
    """``{id: value}`` for the ids asked, in chunks the database accepts as parameters."""
    found: dict[Any, Any] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 5_000):
        part = listed[start : start + 5_000]
        found.update((k, v) for k, v in session.execute(sa.select(key, value).where(key.in_(part))))
    return found


def create_draft(
    session: Session, data: MessageCreate, actor: Actor, as_of: date
) -> EngagementRead:
    """Draft the template's message for the account and store it with its goal and check."""
    account = get_account(session, data.account, by_name=True)
    require_account_editor(session, actor.user, account)
    check = _validated(data.check)
    moment = _moment(data.moment)
    draft = messages_service.draft(
        session,
        account.external_id,
        moment,
        data.goal,
        as_of,
        contact_external_id=data.contact,
        next_step=data.next_step,
    )
    contact = _receiver(session, account.id, draft.audience, data.contact)
    if contact is None or not contact.email:
        raise InvalidInput(f"{account.name!r}: the contact to write to has no e-mail address")
    row = EngagementMessage(
        account_id=account.id,
        contact_id=contact.id,
        moment=moment.value,
        goal=draft.goal,
        metric=check.metric,
        comparison=check.comparison,
        target=check.target,
        milestone=check.milestone,
        check_after_days=check.after_days,
        recipient=contact.email,
        sender=_sender_address(session, account),
        subject=draft.subject,
        body=draft.body,
        status=MessageStatus.draft,
        drafted_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "message.draft", "engagement_message", row.id)
    return _read(session, row)


def _receiver(
    session: Session, account_id: int, audience: str, external_id: str | None
) -> Contact | None:
    contacts = session.scalars(
        sa.select(Contact).where(Contact.account_id == account_id, Contact.left_on.is_(None))
    ).all()
    if external_id is not None:
        return next((c for c in contacts if c.external_id == external_id), None)
    return next((c for c in contacts if c.name and audience.startswith(c.name)), None) or next(
        (c for c in contacts if c.email and audience.startswith(c.email)), None
    )


def _sender_address(session: Session, account: Account) -> str:
    owner = session.get(User, account.owner_id) if account.owner_id else None
    return owner.email if owner is not None else "customer-success@localhost"


def _get(session: Session, message_id: int) -> EngagementMessage:
    row = session.get(EngagementMessage, message_id)
    if row is None:
        raise NotFound(f"no engagement message {message_id}")
    return row


def metric_on(
    session: Session, account_id: int, slug: str, day: date, after: date | None = None
) -> float | None:
    """The metric's stored value on the latest computed day up to ``day`` (and after ``after``:
    a value from before the message went out says nothing of its effect)."""
    query = sa.select(MetricSnapshot.values).where(
        MetricSnapshot.account_id == account_id, MetricSnapshot.as_of <= day
    )
    if after is not None:
        query = query.where(MetricSnapshot.as_of > after)
    values = session.scalar(query.order_by(MetricSnapshot.as_of.desc()).limit(1))
    value = (values or {}).get(slug)
    return float(value) if isinstance(value, int | float) else None


def _log_touchpoint(
    session: Session,
    row: EngagementMessage,
    external_id: str,
    sent_at: datetime,
    user_id: int | None,
) -> Touchpoint:
    """The message as the e-mail touchpoint it is, with the contact it went to."""
    contact = session.get(Contact, row.contact_id) if row.contact_id else None
    touchpoint = Touchpoint(
        external_id=external_id,
        account_id=row.account_id,
        kind=TouchpointKind.email,
        occurred_at=sent_at,
        subject=row.subject,
        notes=f"Goal: {row.goal}. Checked: {check_words(row)}.",
        user_id=user_id,
        attendees=[contact] if contact is not None else [],
    )
    session.add(touchpoint)
    session.flush()
    return touchpoint


def approve(
    session: Session, message_id: int, actor: Actor, as_of: date, now: datetime | None = None
) -> EngagementRead:
    """A person approves the draft: queued in the outbox, logged as a touchpoint, check day set."""
    row = _get(session, message_id)
    account = session.get_one(Account, row.account_id)
    require_account_editor(session, actor.user, account)
    if row.status is not MessageStatus.draft:
        raise InvalidInput(f"message {message_id} is {row.status.value}, not a draft to approve")
    now = now or utcnow()
    queued = outbox.enqueue(
        session,
        kind="engagement",
        goal=row.goal,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        sender=row.sender,
        dedupe_key=f"engagement:{row.id}",
        account_id=row.account_id,
        now=now,
    )
    if queued is None:
        raise InvalidInput(
            f"{row.recipient} asked for no e-mail: message {message_id} was not queued"
        )
    touchpoint = _log_touchpoint(session, row, f"engagement-{row.id}", now, actor.id)
    row.status = MessageStatus.sent
    row.approved_by_id = actor.id
    row.sent_on = as_of
    row.outbox_message_id = queued.id
    row.touchpoint_id = touchpoint.id
    row.check_on = as_of + timedelta(days=row.check_after_days)
    row.baseline = metric_on(session, row.account_id, row.metric, as_of) if row.metric else None
    session.flush()
    audit.record(
        session,
        actor,
        "message.approve",
        "engagement_message",
        row.id,
        after={"outbox_message_id": queued.id, "check_on": row.check_on.isoformat()},
    )
    return _read(session, row)


def _judge(session: Session, row: EngagementMessage, as_of: date) -> None:
    assert row.check_on is not None and row.sent_on is not None
    if row.metric is not None:
        value = metric_on(session, row.account_id, row.metric, row.check_on, after=row.sent_on)
        metric = get_metric(row.metric)
        row.measured = value
        if value is None:
            row.goal_met = None
            row.result = f"{metric.name}: no value stored between {row.sent_on} and {row.check_on}"
            return
        target = row.target if row.target is not None else 0.0

        def reaches(seen: float) -> bool:
            return seen >= target if row.comparison == "at_least" else seen <= target

        met = reaches(value)
        if row.baseline is None:  # imported: the value stored up to the day it was sent
            row.baseline = metric_on(session, row.account_id, row.metric, row.sent_on)
        before = "" if row.baseline is None else f" (was {metric.format(row.baseline)} when sent)"
        # A goal already reached when the message went out proves nothing about the message.
        already = met and row.baseline is not None and reaches(row.baseline)
        row.goal_met = met
        verdict = "met, but it was already met when sent" if already else "met"
        row.result = (
            f"{metric.name} {metric.format(value)} on {row.check_on}{before}: "
            f"{verdict if met else 'not met'}"
        )
        return
    reached = session.scalar(
        sa.select(sa.func.min(Milestone.reached_on)).where(
            Milestone.account_id == row.account_id,
            Milestone.key == row.milestone,
            Milestone.reached_on >= row.sent_on,
            Milestone.reached_on <= row.check_on,
        )
    )
    row.goal_met = reached is not None
    row.result = (
        f"milestone {row.milestone!r} reached on {reached}"
        if reached
        else f"milestone {row.milestone!r} not reached by {row.check_on}"
    )


def check_goals(session: Session, as_of: date) -> list[EngagementRead]:
    """Judge every sent message whose check day has come by ``as_of`` and was not judged yet."""
    due = session.scalars(
        sa.select(EngagementMessage)
        .where(
            EngagementMessage.status == MessageStatus.sent,
            EngagementMessage.check_on <= as_of,
            EngagementMessage.checked_at.is_(None),
        )
        .order_by(EngagementMessage.id)
    ).all()
    for row in due:
        _judge(session, row, as_of)
        row.checked_at = utcnow()
    session.flush()
    return _reads(session, due)


def upsert_messages(session: Session, rows: Sequence[MessageImport]) -> UpsertCounts:
    """Messages already sent, imported by their external id (a re-import updates them): each is
    checked like one approved here — a known template, a goal and one complete check — and
    logged as the e-mail touchpoint it was; the daily run judges its goal once its day comes."""
    for line, row in enumerate(rows, start=1):
        try:
            _validated(
                GoalCheck(
                    metric=row.metric,
                    comparison=row.comparison,
                    target=row.target,
                    milestone=row.milestone,
                    after_days=row.check_after_days,
                )
            )
        except InvalidInput as error:
            raise InvalidInput(f"message {row.external_id} (row {line}): {error.message}") from None
    wanted = {r.contact_external_id for r in rows}
    emails = dict(
        session.execute(
            sa.select(Contact.external_id, Contact.email).where(Contact.external_id.in_(wanted))
        ).all()
    )
    rows = [
        r.model_copy(
            update={
                "recipient": r.recipient or emails.get(r.contact_external_id) or "",
                "sender": r.sender or r.sender_email,
            }
        )
        for r in rows
    ]
    changes = service.upsert_rows(session, EngagementMessage, "external_id", rows)
    for change in changes.values():
        message = change.record
        message.drafted_by_id = message.approved_by_id
        message.status = MessageStatus.sent
        assert message.sent_on is not None
        message.check_on = message.sent_on + timedelta(days=message.check_after_days)
        if message.touchpoint_id is None:
            sent_at = datetime.combine(message.sent_on, time(12), tzinfo=UTC)
            external_id = f"engagement-import-{message.external_id}"
            touchpoint = _log_touchpoint(
                session, message, external_id, sent_at, message.approved_by_id
            )
            message.touchpoint_id = touchpoint.id
    session.flush()
    return service.counts(changes)


def list_messages(
    session: Session, account_id: int | None = None, status: str | None = None
) -> list[EngagementRead]:
    query = sa.select(EngagementMessage).order_by(EngagementMessage.id.desc())
    if account_id is not None:
        query = query.where(EngagementMessage.account_id == account_id)
    if status is not None:
        query = query.where(EngagementMessage.status == MessageStatus(status))
    return _reads(session, session.scalars(query).all())


def goal_report(session: Session) -> list[TemplateOutcome]:
    """Per message template: how many were sent, await their check, met or missed their goal."""
    rows = session.scalars(
        sa.select(EngagementMessage).where(EngagementMessage.status == MessageStatus.sent)
    ).all()
    counts: dict[str, Counter[str]] = {m.value: Counter() for m in messages.Moment}
    for row in rows:
        tally = counts[row.moment]
        tally["sent"] += 1
        if row.checked_at is None:
            tally["awaiting"] += 1
        elif row.goal_met is None:
            tally["unknown"] += 1
        else:
            tally["met" if row.goal_met else "missed"] += 1
    report = []
    for moment, tally in counts.items():
        judged = tally["met"] + tally["missed"]
        report.append(
            TemplateOutcome(
                moment=moment,
                template=TEMPLATE_NAMES[messages.Moment(moment)],
                sent=tally["sent"],
                awaiting_check=tally["awaiting"],
                met=tally["met"],
                not_met=tally["missed"],
                not_measurable=tally["unknown"],
                met_share=tally["met"] / judged if judged else None,
            )
        )
    return report
