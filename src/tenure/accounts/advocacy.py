"""Advocacy a customer gave — success stories, case studies, references, speaker slots, referrals —
recorded by people from the console, the API or the CLI (the account's editors; audited here).

These are the records the frameworks' evangelism reads (success/lifecycle_service: stories a
quarter, references, referrals) and the referred customers of effective CAC (success/expansion).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tenure.accounts import service
from tenure.accounts.crm_schemas import AdvocacyImport
from tenure.accounts.growth_schemas import AdvocacyRead, AdvocacyRecord
from tenure.accounts.schemas import UpsertCounts
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor
from tenure.errors import InvalidInput
from tenure.model import Account, AdvocacyKind, Contact, Referral
from tenure.model.base import MAX_ID


def record_advocacy(
    session: Session, account_id: int, data: AdvocacyRecord, actor: Actor, today: date
) -> AdvocacyRead:
    account = service.get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    occurred_on = data.occurred_on or today
    if occurred_on > today:
        raise InvalidInput(f"occurred_on {occurred_on}: record advocacy once it has happened")
    contact = None
    if data.contact_id is not None:
        contact = session.get(Contact, data.contact_id) if data.contact_id <= MAX_ID else None
        if contact is None or contact.account_id != account.id:
            raise InvalidInput(f"contact_id {data.contact_id}: not a contact of {account.name!r}")
    if data.referred_account_id is not None:
        if data.kind is not AdvocacyKind.referral:
            raise InvalidInput("referred_account_id: only a referral brings in a customer")
        if data.referred_account_id == account.id:
            raise InvalidInput("referred_account_id: an account cannot refer itself")
        service.get_account(session, data.referred_account_id)
    if not data.title and data.kind is not AdvocacyKind.referral:
        raise InvalidInput(f"title: say what the {_noun(data.kind)} is")
    record = Referral(
        account_id=account.id,
        kind=data.kind,
        occurred_on=occurred_on,
        title=data.title,
        note=data.note,
        contact_id=data.contact_id,
        referred_account_id=data.referred_account_id,
        recorded_by_id=actor.id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session, actor, "advocacy.create", "advocacy", record.id, after=audit.snapshot(record)
    )
    return _read(record, account.external_id, account.name, contact.name if contact else None)


def upsert_advocacy(session: Session, rows: Sequence[AdvocacyImport]) -> UpsertCounts:
    """Advocacy records imported from the CRM (a reference program, a custom object), by the
    CRM's id: a re-import updates them."""
    return service.counts(service.upsert_rows(session, Referral, "external_id", rows))


def _noun(kind: AdvocacyKind) -> str:
    return ADVOCACY_NOUNS[kind]


# Plain words for each kind, as the console shows them.
ADVOCACY_NOUNS = {
    AdvocacyKind.success_story: "success story",
    AdvocacyKind.case_study: "case study",
    AdvocacyKind.reference: "reference",
    AdvocacyKind.speaker: "speaker slot",
    AdvocacyKind.referral: "referral",
}


def _read(
    record: Referral, account_external_id: str, account_name: str, contact_name: str | None
) -> AdvocacyRead:
    return AdvocacyRead.model_validate(
        {
            "id": record.id,
            "account_id": record.account_id,
            "account_external_id": account_external_id,
            "account_name": account_name,
            "kind": record.kind,
            "occurred_on": record.occurred_on,
            "title": record.title,
            "note": record.note,
            "contact_id": record.contact_id,
            "contact_name": contact_name,
            "referred_account_id": record.referred_account_id,
            "recorded_by_id": record.recorded_by_id,
        }
    )


# Where a record stands in the list's order: (day, id), newest first.
AdvocacyKey = tuple[date, int]


def list_advocacy(
    session: Session,
    *,
    account_id: int | None = None,
    kind: AdvocacyKind | None = None,
    since: date | None = None,
    after: AdvocacyKey | None = None,
    limit: int | None = None,
) -> list[AdvocacyRead]:
    """Advocacy records, newest first; ``after`` one's (day, id), ``limit`` of them."""
    contact = aliased(Contact)
    # Names only: a whole account row decodes its custom fields.
    query = (
        sa.select(Referral, Account.external_id, Account.name, contact.name)
        .join(Account, Account.id == Referral.account_id)
        .outerjoin(contact, contact.id == Referral.contact_id)
        .order_by(Referral.occurred_on.desc(), Referral.id.desc())
        .limit(limit)
    )
    if account_id is not None:
        service.get_account(session, account_id)
        query = query.where(Referral.account_id == account_id)
    if kind is not None:
        query = query.where(Referral.kind == kind)
    if since is not None:
        query = query.where(Referral.occurred_on >= since)
    if after is not None:
        day, record_id = after
        query = query.where(
            sa.or_(
                Referral.occurred_on < day,
                sa.and_(Referral.occurred_on == day, Referral.id < record_id),
            )
        )
    return [_read(*row) for row in session.execute(query).all()]
