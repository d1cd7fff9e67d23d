"""Upserts by external id: counts that can be explained, partial inputs that keep stored values,
references resolved by external id — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.schemas import (
    AccountCreate,
    ContactCreate,
    ContractCreate,
    TouchpointCreate,
    UpsertCounts,
)
from tenure.errors import InvalidInput, NotFound
from tenure.model import AccountOwnership, Contact, Contract, Touchpoint, User
from tests.stored import stored, stored_all


def account(external_id: str = "acme", name: str = "Acme", **fields: object) -> AccountCreate:
    return AccountCreate.model_validate({"external_id": external_id, "name": name, **fields})


def csm(session: Session, email: str = "dana@cs.example") -> User:
    user = User(email=email, name=email.split("@")[0].title())
    session.add(user)
    session.flush()
    return user


def test_insert_then_unchanged_then_updated(session: Session) -> None:
    rows = [account("acme", "Acme", industry="Retail"), account("globex", "Globex")]
    assert service.upsert_accounts(session, rows) == UpsertCounts(inserted=2)
    assert service.upsert_accounts(session, rows) == UpsertCounts(unchanged=2)
    renamed = [account("acme", "Acme Inc.", industry="Retail"), account("globex", "Globex")]
    assert service.upsert_accounts(session, renamed) == UpsertCounts(updated=1, unchanged=1)
    assert service.get_account(session, "acme").name == "Acme Inc."


def test_fields_absent_from_the_input_keep_their_values(session: Session) -> None:
    service.upsert_accounts(session, [account(industry="Retail", custom={"tier": "gold"})])
    # A second source knows only the name and another custom attribute.
    counts = service.upsert_accounts(session, [account(custom={"domain": "acme.example"})])
    assert counts == UpsertCounts(updated=1)
    stored = service.get_account(session, "acme")
    assert stored.industry == "Retail"
    assert stored.custom == {"tier": "gold", "domain": "acme.example"}


def test_parent_later_in_the_same_batch(session: Session) -> None:
    counts = service.upsert_accounts(
        session, [account("acme-de", "Acme GmbH", parent_external_id="acme"), account()]
    )
    assert counts == UpsertCounts(inserted=2)
    child = service.get_account(session, "acme-de")
    assert child.parent_id == service.get_account(session, "acme").id
    # Dropping the parent is an update; repeating it changes nothing.
    orphan = account("acme-de", "Acme GmbH", parent_external_id=None)
    assert service.upsert_accounts(session, [orphan]) == UpsertCounts(updated=1)
    assert service.upsert_accounts(session, [orphan]) == UpsertCounts(unchanged=1)
    assert service.get_account(session, "acme-de").parent_id is None


def test_owner_changes_keep_a_history(session: Session) -> None:
    dana, lee = csm(session, "dana@cs.example"), csm(session, "lee@cs.example")
    first, second = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    service.upsert_accounts(session, [account(owner_email="dana@cs.example")], at=first)
    # E-mails match whatever their case.
    service.upsert_accounts(session, [account(owner_email=" Dana@CS.example")], at=second)
    service.upsert_accounts(session, [account(owner_email="lee@cs.example")], at=second)
    history = session.scalars(
        sa.select(AccountOwnership).order_by(AccountOwnership.started_at)
    ).all()
    assert [(h.user_id, h.ended_at is not None) for h in history] == [
        (dana.id, True),
        (lee.id, False),
    ]
    assert service.get_account(session, "acme").owner_id == lee.id


def test_unknown_references_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match=r"no user with email 'nobody@x\.example'"):
        service.upsert_accounts(session, [account(owner_email="nobody@x.example")])
    contact = ContactCreate(external_id="c1", account_external_id="missing")
    with pytest.raises(InvalidInput, match="no account with external id 'missing'"):
        service.upsert_contacts(session, [contact])


def test_contract_money_is_compared_to_the_cent(session: Session) -> None:
    service.upsert_accounts(session, [account()])
    contract = ContractCreate.model_validate(
        {
            "external_id": "sub_1",
            "account_external_id": "acme",
            "starts_on": "2024-01-01",
            "ends_on": "2024-12-31",
            "arr": 12000.004,
        }
    )
    assert service.upsert_contracts(session, [contract]) == UpsertCounts(inserted=1)
    session.expire_all()
    assert service.upsert_contracts(session, [contract]) == UpsertCounts(unchanged=1)
    assert session.scalars(sa.select(Contract.arr)).one() == 12000.0


def test_touchpoint_attendees_by_contact_external_id(session: Session) -> None:
    service.upsert_accounts(session, [account()])
    service.upsert_contacts(
        session,
        [ContactCreate(external_id=c, account_external_id="acme") for c in ("c1", "c2", "c3")],
    )
    meeting = {
        "external_id": "qbr-1",
        "account_external_id": "acme",
        "kind": "qbr",
        "occurred_at": "2024-04-02T15:00:00Z",
        "attendee_external_ids": "c1;c2",
    }
    rows = [TouchpointCreate.model_validate(meeting)]
    assert service.upsert_touchpoints(session, rows) == UpsertCounts(inserted=1)
    session.expire_all()
    assert service.upsert_touchpoints(session, rows) == UpsertCounts(unchanged=1)
    changed = [TouchpointCreate.model_validate({**meeting, "attendee_external_ids": "c3"})]
    assert service.upsert_touchpoints(session, changed) == UpsertCounts(updated=1)
    [touchpoint] = stored_all(session, Touchpoint, Touchpoint.occurred_at, account="acme")
    read = service.touchpoint_read(touchpoint)
    assert read.attendee_ids == [stored(session, Contact, "c3").id]
    assert read.occurred_at == datetime(2024, 4, 2, 15, tzinfo=UTC)


def test_one_account_lookup_by_id_external_id_or_name(session: Session) -> None:
    service.upsert_accounts(
        session, [account(), account("acme-de", "ACME"), account("initech", "Initech")]
    )
    acme = service.get_account(session, "acme")
    assert service.get_account(session, acme.id) is acme
    # A name only where asked for (the command line); never for an external id in a URL.
    assert service.get_account(session, "Initech", by_name=True).external_id == "initech"
    with pytest.raises(NotFound, match="no account with external id 'Initech'"):
        service.get_account(session, "Initech")
    with pytest.raises(InvalidInput, match="2 accounts are named 'ACME'; use an id: acme, acme-de"):
        service.get_account(session, "ACME", by_name=True)
    with pytest.raises(NotFound, match="no account with id 999999"):
        service.get_account(session, 999_999)
    with pytest.raises(NotFound, match="no account with external id 'nope'"):
        service.get_account(session, "nope")
    with pytest.raises(NotFound, match="no account with id or name 'nope'"):
        service.get_account(session, "nope", by_name=True)
