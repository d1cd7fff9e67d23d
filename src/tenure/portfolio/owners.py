"""Account owners: who may own an account, and reassigning owners with their history kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor, require_role, team_member_ids
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, AccountOwnership, Cta, User, UserRole
from tenure.playbooks.handover import tell_new_owner
from tenure.playbooks.service import OPEN_STATUSES, record_event
from tenure.portfolio.schemas import (
    OwnerChoice,
    ReassignLine,
    ReassignPreview,
    ReassignRequest,
    ReassignResult,
)


def owner_choices(session: Session) -> list[OwnerChoice]:
    users = session.scalars(
        sa.select(User)
        .where(User.is_active.is_(True), User.role != UserRole.viewer)
        .order_by(User.name)
    ).all()
    return [OwnerChoice(id=u.id, name=u.name, role=u.role) for u in users]


def owner_name(session: Session, user_id: int) -> str | None:
    return session.scalar(sa.select(User.name).where(User.id == user_id))


def assignable_owners(session: Session, user: User) -> list[OwnerChoice]:
    """The people ``user`` may make an account's owner — exactly those :func:`reassign_owner`
    accepts from them: an admin any active non-viewer, a manager their team (themselves and
    their reports), anyone else nobody (they may not reassign)."""
    if user.role == UserRole.admin:
        return owner_choices(session)
    if user.role != UserRole.manager:
        return []
    team = team_member_ids(session, user)
    return [choice for choice in owner_choices(session) if choice.id in team]


def reassign_preview(
    session: Session, account_ids: list[int], owner_id: int, actor: Actor
) -> ReassignPreview:
    """What :func:`reassign_owner` would do, for the person to confirm: each account with its
    owner now, and the new owner. Refuses what the reassignment itself would refuse."""
    request = ReassignRequest(account_ids=account_ids, owner_id=owner_id)
    new_owner, accounts = _checked(session, request, actor)
    names = dict(session.execute(sa.select(User.id, User.name)).all())
    return ReassignPreview(
        owner_id=new_owner.id,
        owner_name=new_owner.name,
        accounts=[
            ReassignLine(
                account_id=a.id,
                account_name=a.name,
                owner_name=names.get(a.owner_id) if a.owner_id else None,
                unchanged=a.owner_id == new_owner.id,
            )
            for a in sorted(accounts, key=lambda a: a.name)
        ],
    )


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
    """Give accounts a new owner, closing the previous ownership span (kept for per-CSM KPIs);
    the previous owner's open calls to action on them go to the new owner, who is told at once
    (an e-mail, and a Slack alert when Slack is connected)."""
    new_owner, accounts = _checked(session, request, actor)
    reassigned, unchanged = [], []
    handed: list[Cta] = []
    previous: set[int] = set()
    for account in sorted(accounts, key=lambda a: a.id):
        if account.owner_id == new_owner.id:
            unchanged.append(account.id)
            continue
        moved = _hand_over_ctas(session, account, new_owner, actor, now)
        if moved:
            handed += moved
            previous.add(account.owner_id or 0)
        transfer_ownership(session, account, new_owner, actor, now)
        reassigned.append(account.id)
    session.flush()
    from_owner = session.get(User, previous.pop()) if len(previous) == 1 else None
    tell_new_owner(session, handed, new_owner, from_owner, now)
    return ReassignResult(reassigned=reassigned, unchanged=unchanged, owner_id=new_owner.id)


def _hand_over_ctas(
    session: Session, account: Account, new_owner: User, actor: Actor, now: datetime
) -> list[Cta]:
    """The previous owner's open calls to action on the account go with it to the new owner
    (a CTA left with someone who no longer holds the customer is work nobody does)."""
    if account.owner_id is None:
        return []
    ctas = session.scalars(
        sa.select(Cta).where(
            Cta.account_id == account.id,
            Cta.owner_id == account.owner_id,
            Cta.status.in_(OPEN_STATUSES),
        )
    ).all()
    for cta in ctas:
        detail = {"from_user_id": account.owner_id, "to_user_id": new_owner.id}
        record_event(session, cta, "reassigned", now.date(), now, detail, actor.id)
        cta.owner_id = new_owner.id
    return list(ctas)


def _checked(
    session: Session, request: ReassignRequest, actor: Actor
) -> tuple[User, Sequence[Account]]:
    """The new owner and the accounts, once the actor may give these accounts to that owner."""
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
    return new_owner, accounts
