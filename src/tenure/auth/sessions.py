"""Signed session cookies and the CSRF token they carry.

The cookie holds only ``{"uid", "csrf"}`` signed with the secret key (itsdangerous), is HttpOnly
and SameSite=Lax, and expires after ``SESSION_MAX_AGE``. Forms echo the CSRF token in a hidden
field (htmx sends it in the ``X-CSRF-Token`` header); a write whose token does not match the
session's is refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "tenure_session"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebSession:
    csrf: str
    user_id: int | None = None


class SessionCodec:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tenure-session")

    def dumps(self, session: WebSession) -> str:
        return self._serializer.dumps({"uid": session.user_id, "csrf": session.csrf})

    def loads(self, cookie: str | None) -> WebSession | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        uid = data.get("uid")
        return WebSession(csrf=data["csrf"], user_id=uid if isinstance(uid, int) else None)


def new_session(user_id: int | None = None) -> WebSession:
    return WebSession(csrf=secrets.token_urlsafe(24), user_id=user_id)


def csrf_matches(session: WebSession | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)
