"""Sessions end when they should (issue 16.2): a copied cookie used to work for 12 h after
sign-out, and password or role changes left every session open."""

from __future__ import annotations

import warnings

import pytest

from tenure.auth.permissions import Actor
from tenure.auth.schemas import UserUpdate
from tenure.auth.service import set_password, update_user
from tenure.auth.sessions import SESSION_COOKIE
from tenure.model import AuditLog, UserRole, UserSession
from tests.factories import PASSWORD
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient


def _copy(console: Console) -> TestClient:
    """A second browser holding a copy of the first one's session cookie."""
    thief = TestClient(console.client.app)
    thief.cookies.set(SESSION_COOKIE, console.client.cookies[SESSION_COOKIE])
    return thief


def _signed_in(client: TestClient) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_sign_out_ends_the_session_for_copies_of_the_cookie_too(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    copy = _copy(console)
    assert _signed_in(copy)
    token = csrf_of(console.client.get("/today").text)
    assert console.client.post("/logout", data={"csrf_token": token}).status_code == 200
    assert not _signed_in(copy)
    assert copy.get("/today", follow_redirects=False).status_code == 303


def test_sign_out_ends_only_that_session(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    laptop = console.client
    phone = TestClient(console.client.app)
    sign_in(phone, "cleo@example.com")
    laptop.post("/logout", data={"csrf_token": csrf_of(laptop.get("/today").text)})
    assert not _signed_in(laptop) and _signed_in(phone)


def test_sign_out_everywhere_from_the_page(console: Console) -> None:
    other = TestClient(console.client.app)
    sign_in(other, "cleo@example.com")
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/today").text
    assert 'action="/logout/everywhere"' in page
    response = console.client.post(
        "/logout/everywhere", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not _signed_in(console.client) and not _signed_in(other)
    with console.session() as db:
        assert db.query(UserSession).filter_by(user_id=console.book.cleo.id).count() == 0
        entry = db.query(AuditLog).filter_by(action="user.sign_out_everywhere").one()
        assert entry.after == {"ended": 2}


def test_sign_out_everywhere_needs_the_csrf_token(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    assert console.client.post("/logout/everywhere").status_code == 403
    assert _signed_in(console.client)


@pytest.mark.slow
def test_sign_out_everywhere_over_the_api_for_self_or_by_an_admin(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    admin = TestClient(console.client.app)
    sign_in(admin, "ada@example.com")
    headers = {"X-CSRF-Token": csrf_of(admin.get("/today").text)}
    cleo, sam = console.book.cleo.id, console.book.sam.id
    ended = admin.delete(f"/api/v1/users/{cleo}/sessions", headers=headers)
    assert ended.status_code == 200 and ended.json() == {"ended": 1}
    assert not _signed_in(console.client) and _signed_in(admin)

    sign_in(console.client, "cleo@example.com")
    mine = {"X-CSRF-Token": csrf_of(console.client.get("/today").text)}
    assert console.client.delete(f"/api/v1/users/{sam}/sessions", headers=mine).status_code == 403
    assert console.client.delete(f"/api/v1/users/{cleo}/sessions", headers=mine).json() == {
        "ended": 1
    }
    assert not _signed_in(console.client)


def test_a_password_change_ends_the_user_s_sessions(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    with console.session() as db:
        set_password(db, console.book.cleo.id, "a-new-long-passphrase-9", actor=None)
        db.commit()
    assert not _signed_in(console.client)
    assert sign_in(console.client, "cleo@example.com", "a-new-long-passphrase-9").status_code == 303


def test_a_role_change_or_deactivation_ends_the_user_s_sessions(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    other = TestClient(console.client.app)
    sign_in(other, "sam@example.com")
    with console.session() as db:
        admin = Actor(db.get_one(type(console.book.ada), console.book.ada.id), "web")
        update_user(db, console.book.cleo.id, UserUpdate(name="Cleo Renamed"), admin)
        db.commit()
        assert _signed_in(console.client)  # a new name keeps the session
        update_user(db, console.book.cleo.id, UserUpdate(role=UserRole.viewer), admin)
        update_user(db, console.book.sam.id, UserUpdate(is_active=False), admin)
        db.commit()
    assert not _signed_in(console.client) and not _signed_in(other)


def test_get_login_keeps_a_signed_in_user_signed_in(console: Console) -> None:
    """Issue 16.7: opening /login used to replace the cookie with a signed-out one."""
    sign_in(console.client, "cleo@example.com")
    response = console.client.get("/login?next=/portfolio", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portfolio"
    assert "set-cookie" not in response.headers
    assert _signed_in(console.client)


def test_signing_in_again_ends_the_previous_session(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    copy = _copy(console)
    token = csrf_of(console.client.get("/today").text)
    response = console.client.post(
        "/login",
        data={"email": "sam@example.com", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert console.client.get("/api/v1/me").json()["email"] == "sam@example.com"
    assert not _signed_in(copy)
