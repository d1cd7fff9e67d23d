"""Roles and what they allow, in one place every surface calls.

- **viewer**: reads everything, changes nothing.
- **csm**: reads everything; edits the accounts they own or sit on the account team of.
- **sales**, **services**: as a csm; they are the people who hand a customer over (sales to
  services or to the CSM, services to the CSM) and never receive one from a handoff.
- **manager**: as a csm, plus the accounts their team owns; reassigns owners within their team.
- **admin**: everything, including users, roles, API tokens and the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import Forbidden
from tenure.model import Account, AccountTeamMember, User, UserRole


@dataclass(frozen=True)
class Actor:
    """The signed-in user behind a change, and the surface it came through (web, api, cli)."""

    user: User
    via: str

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> UserRole:
        return self.user.role


CLI_EMAIL_DOMAIN = "cli.local"


def system_actor(session: Session, os_user: str) -> Actor:
    """The actor behind a command-line change: a user named after the OS account that ran it.

    The command line holds the database itself, so it acts as an admin; the user has no password
    and so can never sign in. Its changes are audited like any other (``via`` = "cli").
    """
    email = f"{os_user}@{CLI_EMAIL_DOMAIN}"
    user = session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=f"Command line ({os_user})", role=UserRole.admin)
        session.add(user)
        session.flush()
    return Actor(user, "cli")


def shown_path(path: str | PurePath, actor: Actor) -> str:
    """A server file path as a reader may see it: whole for admins (who configure the server),
    the file's name alone for everyone else — where the data dir lives is no one else's business."""
    return str(path) if actor.role == UserRole.admin else PurePath(path).name


def require_role(user: User, *roles: UserRole) -> None:
    if user.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this needs the role {allowed}; {user.email} is {user.role.value}")


def team_member_ids(session: Session, manager: User) -> set[int]:
    """The manager and everyone who reports to them."""
    ids = session.scalars(sa.select(User.id).where(User.manager_id == manager.id)).all()
    return {manager.id, *ids}


def can_edit_account(session: Session, user: User, account: Account) -> bool:
    return account.id in editable_accounts(session, user, {account.id: account.owner_id})


def editable_accounts(session: Session, user: User, owners: Mapping[int, int | None]) -> set[int]:
    """Which of the accounts (id → owner id) the user may change: an admin all, a viewer none,
    anyone else those they own or sit on the account team of, a manager also their team's. A
    list asks once for all its rows (a statement or two), not once per row."""
    if user.role == UserRole.admin:
        return set(owners)
    if user.role == UserRole.viewer:
        return set()
    owning = {user.id}
    if user.role == UserRole.manager and any(o not in (None, user.id) for o in owners.values()):
        owning = team_member_ids(session, user)
    editable = {a for a, owner in owners.items() if owner in owning}
    rest = sorted(set(owners) - editable)
    for start in range(0, len(rest), 5_000):
        editable.update(
            session.scalars(
                sa.select(AccountTeamMember.account_id).where(
                    AccountTeamMember.user_id == user.id,
                    AccountTeamMember.account_id.in_(rest[start : start + 5_000]),
                )
            )
        )
    return editable


def account_owners(session: Session, account_ids: Iterable[int]) -> dict[int, int | None]:
    """Each account's owner's id (None: unassigned), for :func:`editable_accounts`."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    rows = session.execute(sa.select(Account.id, Account.owner_id).where(Account.id.in_(ids)))
    return {account_id: owner_id for account_id, owner_id in rows}


def require_account_editor(session: Session, user: User, account: Account) -> None:
    if not can_edit_account(session, user, account):
        raise Forbidden(
            f"{user.email} ({user.role.value}) may not change {account.name!r}: "
            "only its owner, its account team, their manager or an admin can"
        )
