"""Alignment: the account team around each account (account executive, account manager,
implementation lead, CSM, support lead) and segment lists of contacts for marketing."""

from __future__ import annotations

import json
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.accounts.words import key_words
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor, require_role
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.model import Account, AccountTeamMember, AccountTeamRole, Contact, User, UserRole
from tenure.model.contact import ContactLevel
from tenure.portfolio.schemas import TeamSeat


class TeamMemberCreate(BaseModel):
    user_id: int
    role: AccountTeamRole


class ContactListRow(NamedTuple):
    """A contact of the list, in the CSV's columns (a plain tuple: a segment holds tens of
    thousands); the level and the roles in the words Account 360 shows ("Director / VP",
    "Commercial buyer"), the roles joined by ";"."""

    account_external_id: str
    account_name: str
    name: str | None
    email: str | None
    title: str | None
    level: str | None
    roles: str


def add_team_member(
    session: Session, account_id: int, data: TeamMemberCreate, actor: Actor
) -> AccountTeamMember:
    account = get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    user = session.get(User, data.user_id)
    if user is None or not user.is_active or user.role == UserRole.viewer:
        raise InvalidInput(f"user_id {data.user_id}: no active non-viewer user with that id")
    taken = session.scalar(
        sa.select(AccountTeamMember.id).where(
            AccountTeamMember.account_id == account_id,
            AccountTeamMember.user_id == data.user_id,
            AccountTeamMember.role == data.role,
        )
    )
    if taken is not None:
        raise Conflict(f"{user.email} is already {data.role.value} of {account.name!r}")
    member = AccountTeamMember(account_id=account_id, user_id=user.id, role=data.role)
    session.add(member)
    session.flush()
    audit.record(
        session, actor, "account_team.add", "account_team", member.id, after=audit.snapshot(member)
    )
    return member


def remove_team_member(session: Session, account_id: int, member_id: int, actor: Actor) -> None:
    member = session.get(AccountTeamMember, member_id)
    if member is None or member.account_id != account_id:
        raise NotFound(f"account {account_id} has no team member with id {member_id}")
    require_account_editor(session, actor.user, get_account(session, member.account_id))
    before = audit.snapshot(member)
    session.delete(member)
    session.flush()
    audit.record(session, actor, "account_team.remove", "account_team", member_id, before=before)


def team_seats(session: Session, account_id: int) -> list[TeamSeat]:
    rows = session.execute(
        sa.select(
            AccountTeamMember.id, AccountTeamMember.user_id, User.name, AccountTeamMember.role
        )
        .join(User, User.id == AccountTeamMember.user_id)
        .where(AccountTeamMember.account_id == account_id)
        .order_by(AccountTeamMember.role)
    ).all()
    return [
        TeamSeat(id=seat, user_id=uid, user_name=name, role=role.value)
        for seat, uid, name, role in rows
    ]


def contact_list(
    session: Session,
    actor: Actor,
    *,
    role: str | None,
    level: str | None,
    segment: str | None,
    as_of: date,
) -> list[ContactListRow]:
    """Current contacts (not left by ``as_of``) with a role and/or level — e.g. every champion,
    for marketing's advocacy programme.

    People's names and e-mails across the whole book, so managers and admins only: they run
    the programmes such a list feeds. CSMs see the contacts of each account on its page, and
    viewers (finance, executives) need figures, not personal data in bulk.
    """
    require_role(actor.user, UserRole.admin, UserRole.manager)
    query = (
        # Plain rows, not Contact objects: a segment holds tens of thousands of contacts. The
        # level as its stored key and the roles as their stored JSON text: a book holds a
        # handful of levels and of role sets, each read and put in words once, not per row.
        sa.select(
            Account.external_id,
            Account.name,
            Contact.name,
            Contact.email,
            Contact.title,
            sa.type_coerce(Contact.level, sa.String()),
            sa.cast(Contact.roles, sa.Text()),
        )
        .join(Account, Account.id == Contact.account_id)
        .where(sa.or_(Contact.left_on.is_(None), Contact.left_on > as_of))
        .order_by(Account.name, Contact.name)
    )
    if level:
        query = query.where(Contact.level == level)
    if segment:
        query = query.where(Account.segment == segment)
    levels: dict[str | None, str | None] = {k.value: key_words(k.value) for k in ContactLevel}
    levels[None] = None
    role_sets: dict[str | None, str | None] = {}
    found = []
    # Core rows: no ORM loading step for plain columns.
    for (
        external_id,
        account_name,
        name,
        email,
        title,
        level_key,
        roles_json,
    ) in session.connection().execute(query):
        if roles_json not in role_sets:
            role_sets[roles_json] = _roles_words(roles_json, role)
        roles = role_sets[roles_json]
        if roles is not None:
            found.append(
                ContactListRow(
                    external_id, account_name, name, email, title, levels[level_key], roles
                )
            )
    return found


def _roles_words(roles_json: str | None, role: str | None) -> str | None:
    """A contact's roles (stored JSON) in words joined by ";"; None when ``role`` is asked for
    and is not among them. Roles are a JSON list: filtered here, the same way on every
    backend."""
    roles = (json.loads(roles_json) if roles_json else None) or []  # JSON null: none
    if role is not None and role not in roles:
        return None
    return ";".join(key_words(r) for r in roles)
