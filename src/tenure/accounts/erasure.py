"""Erasing a person (GDPR art. 17): their contact row and every trace of them, aggregates kept.

What goes: the contact row(s) with that e-mail or id, their source identities, touchpoint
attendance, survey links, e-mails queued or sent to them, their product aliases, their e-mail
wherever an import error, audit entry or webhook payload quoted it. What stays, de-identified:
their events (ids replaced by one random token, so usage and active-user counts stay right;
traits and e-mail removed) and their survey scores (unlinked, comment removed, so NPS stays).
The audit log records that an erasure happened and its counts, never who.

On SQLite the freed bytes are overwritten (``secure_delete``) and the write-ahead log is emptied
after the commit, so the person is not left in the database files either.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.schemas import ErasureReport
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import NotFound
from tenure.model import (
    AuditLog,
    Contact,
    IdentityAlias,
    ImportRun,
    OutboxMessage,
    SourceIdentity,
    SurveyLink,
    SurveyResponse,
    UserRole,
    WebhookDelivery,
    touchpoint_attendee,
)
from tenure.model.base import MAX_ID
from tenure.store.events import EventStore
from tenure.store.events.erasure import PersonErasure

ERASED = "(erased)"


def find_person(session: Session, reference: str) -> list[Contact]:
    """The contacts a reference names: an e-mail (every contact with it, any case), a database
    id, or an external id."""
    reference = reference.strip()
    if "@" in reference:
        query = sa.select(Contact).where(sa.func.lower(Contact.email) == reference.lower())
    elif reference.isdigit() and 0 < int(reference) <= MAX_ID:
        query = sa.select(Contact).where(
            sa.or_(Contact.id == int(reference), Contact.external_id == reference)
        )
    else:
        query = sa.select(Contact).where(Contact.external_id == reference)
    contacts = list(session.scalars(query.order_by(Contact.id)))
    if not contacts and "@" not in reference:
        raise NotFound(f"no contact with id or e-mail {reference!r}")
    return contacts


def erase_person(
    session: Session, events: EventStore, reference: str, actor: Actor
) -> ErasureReport:
    """Remove a person everywhere (admins only). An e-mail no contact has still has its
    messages, events and mentions removed: a person may be known only by what was sent to them.
    """
    require_role(actor.user, UserRole.admin)
    contacts = find_person(session, reference)
    contact_ids = [c.id for c in contacts]
    emails = {c.email.lower() for c in contacts if c.email}
    if "@" in reference:
        emails.add(reference.strip().lower())
    ids = _known_ids(session, contacts, emails, events)
    person = PersonErasure(
        ids=frozenset(ids),
        emails=frozenset(emails),
        names=frozenset(ids | {c.name for c in contacts if c.name}),
        token=f"erased-{secrets.token_hex(8)}",
    )
    _overwrite_freed_bytes(session)
    erased_events = events.erase(person)
    report = ErasureReport(
        contacts=len(contacts),
        events=erased_events.events,
        quarantined=erased_events.quarantined,
        survey_answers=_unlink_answers(session, contact_ids),
        survey_links=_delete(session, SurveyLink, SurveyLink.contact_id.in_(contact_ids)),
        touchpoints=_delete(
            session, touchpoint_attendee, touchpoint_attendee.c.contact_id.in_(contact_ids)
        ),
        outbox_messages=_delete(
            session, OutboxMessage, sa.func.lower(OutboxMessage.recipient).in_(emails)
        ),
        aliases=_delete(
            session,
            IdentityAlias,
            sa.or_(IdentityAlias.previous_id.in_(ids), IdentityAlias.user_id.in_(ids)),
        ),
        mentions=_scrub_mentions(session, person, contact_ids),
    )
    _delete(session, Contact, Contact.id.in_(contact_ids))
    audit.record(session, actor, "person.erased", "contact", None, after=report.model_dump())
    session.flush()
    return report


def _known_ids(
    session: Session, contacts: list[Contact], emails: set[str], events: EventStore
) -> set[str]:
    """Every id the person went by: external ids, source identities, e-mails (a common userId),
    aliases both ways, and the anonymous ids their events were sent with."""
    ids = {c.external_id for c in contacts} | emails
    ids |= set(
        session.scalars(
            sa.select(SourceIdentity.value).where(
                SourceIdentity.contact_id.in_([c.id for c in contacts])
            )
        )
    )
    for previous_id, user_id in session.execute(
        sa.select(IdentityAlias.previous_id, IdentityAlias.user_id).where(
            sa.or_(IdentityAlias.previous_id.in_(ids), IdentityAlias.user_id.in_(ids))
        )
    ):
        ids |= {previous_id, user_id}
    con = events.connect()
    try:
        messages = events.messages(con)
        anonymous = (
            messages.filter(messages.user_id.isin(sorted(ids)) & messages.anonymous_id.notnull())
            .select("anonymous_id")
            .distinct()
            .to_pyarrow()
        )
    finally:
        con.disconnect()
    return ids | set(anonymous["anonymous_id"].to_pylist())


def _overwrite_freed_bytes(session: Session) -> None:
    """SQLite: zero the bytes of deleted and rewritten rows, and empty the WAL after commit."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("PRAGMA secure_delete=ON")
    engine = connection.engine

    def checkpoint(_: Session) -> None:
        with engine.connect() as fresh:
            fresh.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    sa.event.listen(session, "after_commit", checkpoint, once=True)


def _delete(session: Session, target: Any, condition: Any) -> int:
    result = session.execute(sa.delete(target).where(condition))
    return int(getattr(result, "rowcount", 0))


def _unlink_answers(session: Session, contact_ids: list[int]) -> int:
    """Scores stay (NPS, CSAT); who gave them and what they wrote go."""
    result = session.execute(
        sa.update(SurveyResponse)
        .where(SurveyResponse.contact_id.in_(contact_ids))
        .values(contact_id=None, comment=None)
    )
    return int(getattr(result, "rowcount", 0))


def _scrub_mentions(session: Session, person: PersonErasure, contact_ids: list[int]) -> int:
    """Their e-mail in JSON that quoted it (import errors, audit snapshots), and the survey
    webhooks that carried their answer."""
    scrubbed = 0
    for model, column in (
        (ImportRun, "errors"),
        (AuditLog, "before"),
        (AuditLog, "after"),
        (WebhookDelivery, "payload"),
    ):
        text = sa.cast(getattr(model, column), sa.Text)
        mentions = [text.ilike(f"%{email}%") for email in sorted(person.emails)]
        if model is WebhookDelivery:
            mentions += [text.ilike(f'%"contact_id": {i}%') for i in contact_ids]
            mentions += [text.ilike(f'%"contact_id":{i}%') for i in contact_ids]
        if not mentions:
            continue
        for row in session.scalars(sa.select(model).where(sa.or_(*mentions))):
            setattr(row, column, _without(getattr(row, column), person, set(contact_ids)))
            scrubbed += 1
    return scrubbed


def _without(value: Any, person: PersonErasure, contact_ids: set[int]) -> Any:
    if isinstance(value, dict):
        if value.get("contact_id") in contact_ids:
            return {
                **_without({k: v for k, v in value.items() if k != "contact_id"}, person, set()),
                "contact_id": None,
                "comment": None,
            }
        return {key: _without(item, person, contact_ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, person, contact_ids) for item in value]
    if isinstance(value, str) and person.mentioned_in(value):
        return ERASED
    return value
