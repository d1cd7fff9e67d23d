"""Sign-in and sign-out: rate-limited, CSRF-protected, with a fresh session on every sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.http import DbSession, page_actor, session_codec, web_session
from tenure.auth.permissions import Actor
from tenure.auth.ratelimit import LoginRateLimiter, attempt_key, describe_wait
from tenure.auth.service import authenticate, record_failed_sign_in, sign_out_everywhere
from tenure.auth.sessions import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    WebSession,
    csrf_matches,
    end_session,
    new_session,
    session_user,
    start_session,
)
from tenure.errors import Unauthorized
from tenure.model.base import utcnow
from tenure.web.render import render

router = APIRouter(include_in_schema=False)


def set_session_cookie(request: Request, response: Response, session: WebSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_codec(request).dumps(session),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths: '/x' yes, '//evil.example' or 'https://…' no."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/today"


def _login_form(
    request: Request,
    session: WebSession,
    next_url: str,
    *,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
) -> Response:
    request.state.csrf = session.csrf
    response = render(
        request,
        "login.html",
        {"error": error, "next": next_url, "email": email},
        status_code=status_code,
    )
    set_session_cookie(request, response, session)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None, db: Session = DbSession) -> Response:
    """The form; a visitor already signed in goes on to ``next`` and stays signed in."""
    session = web_session(request) or new_session()
    if session.sid is not None and session_user(db, session.sid, utcnow()) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, WebSession(csrf=session.csrf), safe_next(next))


@router.post("/login")
def login(
    request: Request,
    email: str = Form(..., max_length=320),
    password: str = Form(..., max_length=200),
    csrf_token: str = Form("", max_length=200),
    next: str = Form("/today", max_length=2000),
    db: Session = DbSession,
) -> Response:
    current = web_session(request)
    if not csrf_matches(current, csrf_token):
        return _login_form(
            request,
            new_session(),
            safe_next(next),
            email=email,
            status_code=403,
            error="The form expired; sign in again.",
        )
    assert current is not None
    limiter: LoginRateLimiter = request.app.state.login_limiter
    # The peer, or the client a trusted proxy reports (TENURE_TRUSTED_PROXIES; none by default).
    address = request.client.host if request.client else "unknown"
    key = attempt_key(email, address)
    now = utcnow()
    wait = limiter.retry_after(db, key, now)
    if wait:
        record_failed_sign_in(db, email, address, "too many failed sign-ins")
        response = _login_form(
            request,
            current,
            safe_next(next),
            email=email,
            status_code=429,
            error=(
                "Too many failed sign-ins for this account from here. "
                f"Try again in {describe_wait(wait)}."
            ),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        user = authenticate(db, email, password)
    except Unauthorized as error:
        limiter.record_failure(db, key, now)
        record_failed_sign_in(db, email, address, error.message)
        return _login_form(
            request,
            current,
            safe_next(next),
            email=email,
            status_code=401,
            error=error.message[:1].upper() + error.message[1:] + ".",
        )
    limiter.reset(db, key)
    audit.record(db, Actor(user, "web"), "user.sign_in", "user", user.id)
    if current.sid is not None:  # signing in again, maybe as someone else: the old one ends
        end_session(db, current.sid)
    response = RedirectResponse(safe_next(next), status_code=303)
    # A new session (and CSRF token) at sign-in: a session fixed before sign-in is worthless.
    set_session_cookie(request, response, new_session(start_session(db, user, now)))
    return response


@router.post("/logout")
def logout(
    request: Request, csrf_token: str = Form("", max_length=200), db: Session = DbSession
) -> Response:
    """Ends this session on the server too: a copy of the cookie no longer signs anyone in."""
    session = web_session(request)
    response = RedirectResponse("/login", status_code=303)
    if csrf_matches(session, csrf_token):
        assert session is not None
        if session.sid is not None:
            end_session(db, session.sid)
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/logout/everywhere")
def logout_everywhere(actor: Actor = Depends(page_actor), db: Session = DbSession) -> Response:
    """Ends every session of the signed-in user, on every device (API tokens stay)."""
    sign_out_everywhere(db, actor.id, actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
