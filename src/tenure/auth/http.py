"""Request-level security shared by the console pages and /api/v1.

- ``db_session``: one session per request; commit when the handler returns, rollback on error.
- A request is authenticated by a bearer API token (``Authorization: Bearer tnr_…``) or by the
  signed session cookie. Cookie-authenticated writes must carry the session's CSRF token (form
  field or ``X-CSRF-Token`` header); bearer calls are exempt, since browsers never add that header
  on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.auth.schemas import UserRead
from tenure.auth.service import user_for_token
from tenure.auth.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionCodec,
    WebSession,
    csrf_matches,
    session_user,
)
from tenure.errors import Forbidden, SignInRequired, Unauthorized
from tenure.model.base import utcnow

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def db_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Depends(db_session, scope="function")


def session_codec(request: Request) -> SessionCodec:
    codec: SessionCodec | None = getattr(request.app.state, "session_codec", None)
    if codec is None:
        codec = SessionCodec(request.app.state.settings.signing_key)
        request.app.state.session_codec = codec
    return codec


def web_session(request: Request) -> WebSession | None:
    return session_codec(request).loads(request.cookies.get(SESSION_COOKIE))


@dataclass(frozen=True)
class RequestAuth:
    actor: Actor
    session: WebSession | None  # None for bearer calls


def _authenticate(request: Request, db: Session) -> RequestAuth | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization header: expected 'Bearer <API token>'")
        return RequestAuth(Actor(user_for_token(db, token.strip(), utcnow()), "api"), None)
    session = web_session(request)
    if session is None or session.sid is None:
        return None
    user = session_user(db, session.sid, utcnow())
    if user is None or not user.is_active:
        return None
    return RequestAuth(Actor(user, "web"), session)


async def _submitted_csrf(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _check_csrf(request: Request, auth: RequestAuth) -> None:
    if request.method not in UNSAFE_METHODS or auth.session is None:
        return
    if not csrf_matches(auth.session, await _submitted_csrf(request)):
        raise Forbidden(
            "CSRF token missing or wrong: reload the page and submit again "
            "(scripts should use a bearer API token)"
        )


async def api_actor(request: Request, db: Session = DbSession) -> Actor:
    """/api/v1: a bearer token, or the console's session (so each page's JSON twin opens)."""
    auth = _authenticate(request, db)
    if auth is None:
        raise Unauthorized("sign in or send 'Authorization: Bearer <API token>'")
    await _check_csrf(request, auth)
    # A plain copy for rendering: error pages render after the session has rolled back.
    request.state.user = UserRead.model_validate(auth.actor.user)
    return auth.actor


async def page_actor(request: Request, db: Session = DbSession) -> Actor:
    """Console pages: the signed-in user, or a redirect to the sign-in page."""
    auth = _authenticate(request, db)
    if auth is None or auth.session is None:
        raise SignInRequired("sign in to see this page")
    await _check_csrf(request, auth)
    # A plain copy for rendering: error pages render after the session has rolled back.
    request.state.user = UserRead.model_validate(auth.actor.user)
    request.state.csrf = auth.session.csrf
    return auth.actor
