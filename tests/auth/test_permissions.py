"""The command line's actor: changes made from a terminal are audited under the OS user."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import system_actor
from tenure.auth.service import authenticate
from tenure.errors import Unauthorized
from tenure.model import AuditLog, User, UserRole


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
