"""Account owners: who may own an account, and reassigning owners with their history kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor, require_role, team_member_ids
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, AccountOwnership, User, UserRole
from tenure.portfolio.schemas import OwnerChoice, ReassignRequest, ReassignResult


def owner_choices(session: Session) -> list[OwnerChoice]:
    users = session.scalars(
        sa.select(User)
        .where(User.is_active.is_(True), User.role != UserRole.viewer)
        .order_by(User.name)
    ).all()
    return [OwnerChoice(id=u.id, name=u.name, role=u.role) for u in users]


def transfer_ownership(
    session: Session, account: Account, new_owner: User, actor: Actor, now: datetime
) -> None:
    """Make ``new_owner`` the account's owner from ``now``: the previous ownership span is
    closed (kept for per-CSM KPIs) and the change audited. Callers check permissions."""
    before = {"owner_id": account.owner_id}
    session.execute(
        sa.update(AccountOwnership)
        .where(AccountOwnership.account_id == account.id, AccountOwnership.ended_at.is_(None))
        .values(ended_at=now)
    )
    session.add(AccountOwnership(account_id=account.id, user_id=new_owner.id, started_at=now))
    account.owner_id = new_owner.id
    audit.record(
        session,
        actor,
        "account.reassign",
        "account",
        account.id,
        before=before,
        after={"owner_id": new_owner.id},
    )


def reassign_owner(
    session: Session, request: ReassignRequest, actor: Actor, now: datetime
) -> ReassignResult:
    """Give accounts a new owner, closing the previous ownership span (kept for per-CSM KPIs)."""
    require_role(actor.user, UserRole.admin, UserRole.manager)
    new_owner = session.get(User, request.owner_id)
    if new_owner is None or not new_owner.is_active:
        raise InvalidInput(f"owner_id {request.owner_id}: no active user with that id")
    if new_owner.role == UserRole.viewer:
        raise InvalidInput(f"owner_id {request.owner_id}: {new_owner.email} is a viewer")
    if actor.role == UserRole.manager and new_owner.id not in team_member_ids(session, actor.user):
        raise InvalidInput(f"owner_id {request.owner_id}: {new_owner.email} is not on your team")
    accounts = session.scalars(sa.select(Account).where(Account.id.in_(request.account_ids))).all()
    missing = set(request.account_ids) - {a.id for a in accounts}
    if missing:
        raise NotFound(f"account_ids: no account(s) with id {sorted(missing)}")
    for account in accounts:
        if account.owner_id is not None:
            require_account_editor(session, actor.user, account)
    reassigned, unchanged = [], []
    for account in sorted(accounts, key=lambda a: a.id):
        if account.owner_id == new_owner.id:
            unchanged.append(account.id)
            continue
        transfer_ownership(session, account, new_owner, actor, now)
        reassigned.append(account.id)
    session.flush()
    return ReassignResult(reassigned=reassigned, unchanged=unchanged, owner_id=new_owner.id)
