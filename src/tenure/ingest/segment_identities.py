"""Identity calls (identify, group, alias) applied to the operational database: contacts,
accounts, group membership and aliases. Flushes only: the caller owns the transaction.

A group call's ``groupId`` names an account by its external id or by an id linked to it (the
product's workspace id: :mod:`tenure.accounts.group_ids`); the call updates that account's
traits and makes the user its member. A groupId that names no account creates none — a
workspace id is rarely the CRM's account id, and a second "Acme" beside the CRM's would split
its usage. The call stays stored with the events; ``tenure events held`` lists such ids with
the name their traits give, and linking one to an account (``tenure events link``) brings its
members and every stored event to it; ``tenure events new-account`` makes one an account of
its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import accounts_by_group_id
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
    accounts = _accounts_by_group_id(session, groups)
    for group in groups:
        if group.group_id in accounts:
            _apply_account_traits(accounts[group.group_id], group.account_traits())
    session.flush()

    people = [m for m in messages if isinstance(m, IdentifyMessage | GroupMessage) and m.user_id]
    contacts = _contacts_by_external_id(session, {m.user_id for m in people if m.user_id})
    for message in people:
        contact = contacts[message.user_id]  # type: ignore[index]
        if isinstance(message, GroupMessage):
            if message.group_id in accounts:
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


def _accounts_by_group_id(session: Session, groups: list[GroupMessage]) -> dict[str, Account]:
    """The accounts the group ids name; ids that name none are held (left out)."""
    named = accounts_by_group_id(session, {g.group_id for g in groups})
    if not named:
        return {}
    rows = session.scalars(sa.select(Account).where(Account.id.in_(set(named.values()))))
    by_id = {account.id: account for account in rows}
    return {group_id: by_id[account_id] for group_id, account_id in named.items()}


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
