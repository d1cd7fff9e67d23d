"""The demo's last step: sign-ins that work, and serving skipped for scripts."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tenure.auth.service import authenticate
from tenure.cli.demo_console import DEMO_ADMIN, DEMO_PASSWORD, demo_sign_ins, serving_skipped
from tests import factories as f


def test_demo_sign_ins_cover_each_role_and_work(session: Session) -> None:
    from tenure.model import UserRole

    f.user(session, email="lead@example.com", name="Lead", role=UserRole.manager)
    f.user(session, email="csm@example.com", name="Csm")
    first = demo_sign_ins(session)
    again = demo_sign_ins(session)  # a second demo run resets, never duplicates
    assert (
        [(s.email, s.role) for s in first]
        == [(s.email, s.role) for s in again]
        == [(DEMO_ADMIN, "admin"), ("lead@example.com", "manager"), ("csm@example.com", "csm")]
    )
    for sign_in in first:
        assert authenticate(session, sign_in.email, DEMO_PASSWORD).email == sign_in.email


@pytest.mark.parametrize(
    ("flag", "env", "skipped"),
    [(True, None, True), (False, "1", True), (False, None, False), (False, "0", False)],
)
def test_serving_is_skipped_by_flag_or_variable(
    monkeypatch: pytest.MonkeyPatch, flag: bool, env: str | None, skipped: bool
) -> None:
    if env is None:
        monkeypatch.delenv("TENURE_DEMO_NO_SERVE", raising=False)
    else:
        monkeypatch.setenv("TENURE_DEMO_NO_SERVE", env)
    assert serving_skipped(flag) is skipped
