"""Console sessions: a signed cookie pointing at a server-side record, and its CSRF token.

The cookie holds only ``{"sid", "csrf"}`` signed with the secret key (itsdangerous), is HttpOnly
and SameSite=Lax, and expires after ``SESSION_MAX_AGE``. ``sid`` is a random secret; the
``user_session`` row keyed by its SHA-256 says whose session it is. Server-side records rather
than a per-user session version: a version can only end *every* session of a user at once, so
signing out on one laptop would sign out the phone too; a row per session ends exactly the one
signed out, and "sign out everywhere", a password or a role change delete all of a user's rows.
The cost is one indexed lookup per request, joined with the user row every request reads anyway.

Forms echo the CSRF token in a hidden field (htmx sends it in the ``X-CSRF-Token`` header); a
write whose token does not match the session's is refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tenure.auth.tokens import token_hash
from tenure.model import User, UserSession

SESSION_COOKIE = "tenure_session"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebSession:
    csrf: str
    sid: str | None = None  # the signed-in session's secret; None before sign-in


class SessionCodec:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tenure-session")

    def dumps(self, session: WebSession) -> str:
        return self._serializer.dumps({"sid": session.sid, "csrf": session.csrf})

    def loads(self, cookie: str | None) -> WebSession | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        sid = data.get("sid")
        return WebSession(csrf=data["csrf"], sid=sid if isinstance(sid, str) else None)


def new_session(sid: str | None = None) -> WebSession:
    return WebSession(csrf=secrets.token_urlsafe(24), sid=sid)


def csrf_matches(session: WebSession | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)


def start_session(db: Session, user: User, now: datetime) -> str:
    """Record a signed-in session for ``user``; returns the secret its cookie carries.

    The user's expired sessions are dropped here, so the table holds live sessions only.
    """
    db.execute(
        sa.delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    sid = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(sid),
            created_at=now,
            expires_at=now + timedelta(seconds=SESSION_MAX_AGE),
        )
    )
    db.flush()
    return sid


def session_user(db: Session, sid: str, now: datetime) -> User | None:
    """The user of a live session, or None when it was ended or has expired."""
    return db.scalar(
        sa.select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == token_hash(sid), UserSession.expires_at > now)
    )


def end_session(db: Session, sid: str) -> None:
    db.execute(sa.delete(UserSession).where(UserSession.token_hash == token_hash(sid)))


def end_user_sessions(db: Session, user_id: int) -> int:
    """End every console session of a user; returns how many there were."""
    ended = db.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    return int(ended.rowcount)  # type: ignore[attr-defined]
