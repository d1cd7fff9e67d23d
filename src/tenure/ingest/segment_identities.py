"""Identity calls (identify, group, alias) applied to the operational database: contacts,
accounts, group membership and aliases. Flushes only: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.ingest.segment_calls import IdentityMessage, event_time
from tenure.ingest.segment_schemas import AccountTraits, AliasMessage, GroupMessage, IdentifyMessage
from tenure.model import Account, Contact, IdentityAlias


@dataclass(frozen=True)
class IdentityResult:
    contacts: int = 0
    accounts: int = 0
    aliases: int = 0


def apply_identities(
    session: Session, messages: list[IdentityMessage], *, source: str, received_at: datetime
) -> IdentityResult:
    """Upsert contacts and accounts and record aliases, in message order; flushes only."""
    groups = [m for m in messages if isinstance(m, GroupMessage)]
    accounts = _accounts_by_external_id(session, groups)
    for group in groups:
        _apply_account_traits(accounts[group.group_id], group.account_traits())
    session.flush()

    people = [m for m in messages if isinstance(m, IdentifyMessage | GroupMessage) and m.user_id]
    contacts = _contacts_by_external_id(session, {m.user_id for m in people if m.user_id})
    for message in people:
        contact = contacts[message.user_id]  # type: ignore[index]
        if isinstance(message, GroupMessage):
            contact.account_id = accounts[message.group_id].id
        else:
            traits = message.contact_traits()
            contact.email = traits.email or contact.email
            contact.name = traits.full_name() or contact.name
            contact.title = traits.title or contact.title

    aliases = _record_aliases(
        session, [m for m in messages if isinstance(m, AliasMessage)], source, received_at
    )
    session.flush()
    return IdentityResult(len(contacts), len(accounts), aliases)


def _accounts_by_external_id(session: Session, groups: list[GroupMessage]) -> dict[str, Account]:
    wanted = {g.group_id for g in groups}
    if not wanted:
        return {}
    found = {
        a.external_id: a
        for a in session.scalars(sa.select(Account).where(Account.external_id.in_(wanted)))
    }
    for group in groups:
        if group.group_id not in found:
            # Named after its id until a group call brings a name.
            account = Account(external_id=group.group_id, name=group.group_id, custom={})
            session.add(account)
            found[group.group_id] = account
    return found


def _apply_account_traits(account: Account, traits: AccountTraits) -> None:
    account.name = traits.name or account.name
    account.industry = traits.industry or account.industry
    account.segment = traits.segment or account.segment
    account.region = traits.region or account.region
    if traits.employees is not None:
        account.employee_count = traits.employees
    if traits.model_extra:
        account.custom = {**(account.custom or {}), **traits.model_extra}


def _contacts_by_external_id(session: Session, wanted: set[str]) -> dict[str, Contact]:
    if not wanted:
        return {}
    found = {
        c.external_id: c
        for c in session.scalars(sa.select(Contact).where(Contact.external_id.in_(wanted)))
    }
    for external_id in sorted(wanted - found.keys()):
        contact = Contact(external_id=external_id, roles=[])
        session.add(contact)
        found[external_id] = contact
    return found


def _record_aliases(
    session: Session, aliases: list[AliasMessage], source: str, received_at: datetime
) -> int:
    pairs = {(a.previous_id, a.user_id): a for a in aliases}
    if not pairs:
        return 0
    known = {
        (previous_id, user_id)
        for previous_id, user_id in session.execute(
            sa.select(IdentityAlias.previous_id, IdentityAlias.user_id).where(
                IdentityAlias.previous_id.in_({p for p, _ in pairs})
            )
        )
    }
    new = [(pair, message) for pair, message in pairs.items() if pair not in known]
    for (previous_id, user_id), message in new:
        session.add(
            IdentityAlias(
                previous_id=previous_id,
                user_id=user_id,
                source=source,
                aliased_at=event_time(message, received_at),
            )
        )
    return len(new)
