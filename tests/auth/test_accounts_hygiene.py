"""Smaller items of issue 16.7: weak passwords, control characters in names, API tokens that
never expired and could not be revoked from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.auth.permissions import Actor
from tenure.auth.service import (
    create_api_token,
    list_api_tokens,
    set_password,
    user_for_token,
)
from tenure.cli.main import app
from tenure.errors import InvalidInput, Unauthorized
from tenure.model import AuditLog
from tenure.model.base import utcnow
from tests import factories as f
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def _admin_headers(console: Console) -> dict[str, str]:
    sign_in(console.client, "ada@example.com")
    return {"X-CSRF-Token": csrf_of(console.client.get("/today").text)}


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "at least 12 characters"),
        ("Password1234", "most common passwords"),
        ("qwertyuiop123", "most common passwords"),
    ],
)
def test_weak_admin_passwords_are_refused(console: Console, password: str, reason: str) -> None:
    """The reproduction: `password` was accepted as an admin's password."""
    new = {"email": "root@example.com", "name": "Root", "role": "admin", "password": password}
    refused = console.client.post("/api/v1/users", json=new, headers=_admin_headers(console))
    assert refused.status_code == 422 and reason in refused.json()["message"]
    with console.session() as db, pytest.raises(InvalidInput, match=reason):
        set_password(db, console.book.ada.id, password, actor=None)


def test_a_long_uncommon_password_is_accepted(session: Session) -> None:
    user = f.user(session, email="lin@example.com", name="Lin")
    set_password(session, user.id, "tiger river lamp", actor=None)


@pytest.mark.parametrize("name", ["Nina\x00", "Nina\x1b[31m", "Nina\nAdmin", "\x7f"])
def test_control_characters_in_names_are_refused(console: Console, name: str) -> None:
    headers = _admin_headers(console)
    new = {"email": "nina@example.com", "name": name, "role": "csm"}
    created = console.client.post("/api/v1/users", json=new, headers=headers)
    assert created.status_code == 422 and "control character" in created.json()["message"]
    renamed = console.client.patch(
        f"/api/v1/users/{console.book.cleo.id}", json={"name": name}, headers=headers
    )
    assert renamed.status_code == 422
    token = console.client.post("/api/v1/tokens", json={"name": name}, headers=headers)
    assert token.status_code == 422
    page = console.client.post(
        "/admin/tokens",
        data={
            "name": name,
            "user_id": str(console.book.ada.id),
            "csrf_token": headers["X-CSRF-Token"],
        },
    )
    assert page.status_code == 422 and "control character" in page.text


def test_api_tokens_expire_and_say_so(session: Session) -> None:
    user = f.user(session, email="bi@example.com", name="BI")
    created = create_api_token(session, user.id, "BI export", None, expires_in_days=1)
    now = utcnow()
    assert created.expires_at - now < timedelta(days=1, seconds=5)
    assert user_for_token(session, created.token, now).id == user.id
    listed = list_api_tokens(session, user.id)[0]
    assert listed.last_used_at is not None and listed.expires_at == created.expires_at
    with pytest.raises(Unauthorized, match="expired on"):
        user_for_token(session, created.token, now + timedelta(days=1, minutes=1))


def test_tokens_last_90_days_unless_told_and_a_year_at_most(session: Session) -> None:
    user = f.user(session, email="bi@example.com", name="BI")
    default = create_api_token(session, user.id, "nightly", None)
    days = (default.expires_at - default.created_at).days
    assert days == 90 or (days == 89 and default.expires_at > default.created_at)
    with pytest.raises(InvalidInput, match="from 1 to 365"):
        create_api_token(session, user.id, "forever", None, expires_in_days=3650)


def test_the_page_shows_when_tokens_expire(console: Console) -> None:
    headers = _admin_headers(console)
    made = console.client.post(
        "/api/v1/tokens", json={"name": "BI", "expires_in_days": 30}, headers=headers
    ).json()
    page = console.client.get("/admin").text
    assert "<th>Expires</th>" in page and made["expires_at"][:10] in page


def test_the_command_line_lists_and_revokes_tokens(
    console: Console, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.resolved_database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    runner = CliRunner()
    made = runner.invoke(app, ["users", "token", "cleo@example.com", "--name", "BI"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    listed = json.loads(runner.invoke(app, ["users", "tokens", "--json"]).output)
    token_id = next(t["id"] for t in listed if t["name"] == "BI")
    bearer = {"Authorization": f"Bearer {secret}"}
    console.client.cookies.clear()
    assert console.client.get("/api/v1/me", headers=bearer).status_code == 200
    revoked = runner.invoke(app, ["users", "revoke-token", str(token_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert console.client.get("/api/v1/me", headers=bearer).status_code == 401
    with console.session() as db:
        entry = db.query(AuditLog).filter_by(action="api_token.revoke").one()
        assert entry.via == "cli"


def test_admins_revoke_tokens_from_the_page(console: Console) -> None:
    with console.session() as db:
        cleo = Actor(db.get_one(type(console.book.cleo), console.book.cleo.id), "web")
        made = create_api_token(db, cleo.id, "script", cleo)
        db.commit()
    headers = _admin_headers(console)
    revoked = console.client.post(
        f"/admin/tokens/{made.id}/revoke", data={"csrf_token": headers["X-CSRF-Token"]}
    )
    assert revoked.status_code == 200
    console.client.cookies.clear()
    bearer = {"Authorization": f"Bearer {made.token}"}
    assert console.client.get("/api/v1/me", headers=bearer).status_code == 401


def test_the_command_line_refuses_a_weak_password_with_a_message(
    console: Console, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.resolved_database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    args = ["users", "create", "root@example.com", "--name", "Root", "--role", "admin"]
    refused = CliRunner().invoke(app, [*args, "--password", "password"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "password: Value error, at least 12 characters" in refused.output
