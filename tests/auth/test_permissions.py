"""The command line's actor: changes made from a terminal are audited under the OS user."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import (
    account_owners,
    can_edit_account,
    editable_accounts,
    system_actor,
)
from tenure.auth.service import authenticate
from tenure.errors import Unauthorized
from tenure.model import Account, AccountTeamMember, AccountTeamRole, AuditLog, User, UserRole


def test_system_actor_is_one_admin_per_os_user_that_cannot_sign_in(session: Session) -> None:
    first = system_actor(session, "maria")
    again = system_actor(session, "maria")
    other = system_actor(session, "root")

    assert first.user.id == again.user.id != other.user.id
    assert (first.user.email, first.role, first.via) == ("maria@cli.local", UserRole.admin, "cli")
    assert first.user.password_hash is None
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
    with pytest.raises(Unauthorized):
        authenticate(session, "maria@cli.local", "")


def test_a_cli_change_is_audited_under_the_os_user(session: Session) -> None:
    actor = system_actor(session, "maria")
    audit.record(session, actor, "account.update", "account", 7)

    entry = session.scalars(sa.select(AuditLog)).one()
    assert (entry.actor_id, entry.via) == (actor.id, "cli")


def test_who_may_change_which_accounts_in_one_list(session: Session) -> None:
    """editable_accounts answers for a whole list what can_edit_account answers for one: an
    admin every account, a viewer none, a CSM theirs and those whose account team they are on,
    a manager their team's too (not another team's, not unassigned ones) — in two statements at
    most, however long the list."""
    from tests import factories as f

    boss = f.user(session, email="boss@x.test", role=UserRole.manager)
    other_boss = f.user(session, email="other@x.test", role=UserRole.manager)
    cleo = f.user(session, email="cleo@x.test", manager=boss)
    sam = f.user(session, email="sam@x.test", manager=other_boss)
    admin = f.user(session, email="ada@x.test", role=UserRole.admin)
    viewer = f.user(session, email="vic@x.test", role=UserRole.viewer)
    owned = {
        name: f.account(session, external_id=name, owner=owner).id
        for name, owner in (
            ("boss's", boss),
            ("cleo's", cleo),
            ("sam's", sam),
            ("nobody's", None),
            ("cleo's team seat", sam),
        )
    }
    session.add(
        AccountTeamMember(
            account_id=owned["cleo's team seat"], user_id=cleo.id, role=AccountTeamRole.csm
        )
    )
    session.flush()
    expected = {
        admin: set(owned),
        viewer: set(),
        cleo: {"cleo's", "cleo's team seat"},
        sam: {"sam's", "cleo's team seat"},
        boss: {"boss's", "cleo's"},
        other_boss: {"sam's", "cleo's team seat"},
    }
    owners = account_owners(session, owned.values())
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    for user, names in expected.items():
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            found = editable_accounts(session, user, owners)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert found == {owned[n] for n in names}, user.email
        assert len(statements) <= 2, user.email
        for name, account_id in owned.items():
            account = session.get_one(Account, account_id)
            assert can_edit_account(session, user, account) is (name in names), (user.email, name)
