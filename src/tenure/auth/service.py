"""Users, sign-in and API tokens: load, check, save (flush only; the surface commits)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.passwords import (
    burn_verification_time,
    hash_password,
    password_problem,
    verify_password,
)
from tenure.auth.permissions import Actor, require_role
from tenure.auth.schemas import (
    ApiTokenCreated,
    ApiTokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
    no_control_characters,
)
from tenure.auth.sessions import end_user_sessions
from tenure.auth.tokens import display_prefix, new_token, token_hash
from tenure.dates import utc
from tenure.errors import Conflict, InvalidInput, NotFound, Unauthorized
from tenure.model import ApiToken, User, UserRole
from tenure.model.base import MAX_ID, utcnow

# A token lives 90 days unless its creator says otherwise, and a year at most: long enough for
# a nightly BI export not to break every week, short enough that a forgotten one dies.
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None  # beyond 64 bits: none
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


def list_users(session: Session) -> list[UserRead]:
    users = session.scalars(sa.select(User).order_by(User.name, User.id)).all()
    return [UserRead.model_validate(u) for u in users]


def _check_manager(session: Session, manager_id: int | None) -> None:
    if manager_id is None:
        return
    manager = session.get(User, manager_id)
    if manager is None:
        raise InvalidInput(f"manager_id {manager_id}: no such user")
    if manager.role not in (UserRole.manager, UserRole.admin):
        raise InvalidInput(
            f"manager_id {manager_id}: {manager.email} is a {manager.role.value}, not a manager"
        )


def create_user(session: Session, data: UserCreate, actor: Actor | None) -> UserRead:
    """Create a console user. ``actor`` is None only for bootstrapping from the CLI."""
    if actor is not None:
        require_role(actor.user, UserRole.admin)
    if find_user(session, data.email) is not None:
        raise Conflict(f"a user with email {data.email} already exists")
    _check_manager(session, data.manager_id)
    user = User(
        email=data.email,
        name=data.name,
        role=data.role,
        manager_id=data.manager_id,
        password_hash=hash_password(data.password) if data.password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, after=audit.snapshot(user))
    return UserRead.model_validate(user)


def update_user(session: Session, user_id: int, data: UserUpdate, actor: Actor) -> UserRead:
    require_role(actor.user, UserRole.admin)
    user = get_user(session, user_id)
    before = audit.snapshot(user)
    changes = data.model_dump(exclude_unset=True)
    if "manager_id" in changes:
        if changes["manager_id"] == user.id:
            raise InvalidInput("manager_id: a user cannot be their own manager")
        _check_manager(session, changes["manager_id"])
    if user.id == actor.id and (
        changes.get("role", user.role) != UserRole.admin or changes.get("is_active") is False
    ):
        raise InvalidInput("you cannot remove your own admin role or deactivate yourself")
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    audit.record(
        session, actor, "user.update", "user", user.id, before=before, after=audit.snapshot(user)
    )
    if user.role != before["role"] or not user.is_active:
        # A session keeps the powers it was opened with in people's minds: sign in again.
        end_user_sessions(session, user.id)
    return UserRead.model_validate(user)


def set_password(session: Session, user_id: int, password: str, actor: Actor | None) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(f"password: {problem}")
    if actor is not None and actor.id != user_id:
        require_role(actor.user, UserRole.admin)
    user = get_user(session, user_id)
    user.password_hash = hash_password(password)
    session.flush()
    audit.record(session, actor, "user.password", "user", user.id)
    # A new password is often set because the old one leaked: whoever used it is signed out.
    end_user_sessions(session, user.id)


def sign_out_everywhere(session: Session, user_id: int, actor: Actor) -> int:
    """End every console session of a user (yourself, or anyone for an admin); API tokens stay."""
    if actor.id != user_id:
        require_role(actor.user, UserRole.admin)
    user = get_user(session, user_id)
    ended = end_user_sessions(session, user.id)
    audit.record(
        session, actor, "user.sign_out_everywhere", "user", user.id, after={"ended": ended}
    )
    return ended


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with this email and password, or Unauthorized (same message for both)."""
    user = find_user(session, email)
    if user is None:
        burn_verification_time(password)
    elif user.is_active and verify_password(user.password_hash, password):
        return user
    raise Unauthorized("wrong email or password")


def record_failed_sign_in(session: Session, email: str, address: str, reason: str) -> None:
    """Audit a refused sign-in: the e-mail as typed (it may have no account) and the address."""
    user = find_user(session, email)
    audit.record(
        session,
        None,
        "user.sign_in_failed",
        "user",
        user.id if user else None,
        after={"email": email.strip().lower(), "address": address, "reason": reason},
        via="web",
    )


def create_api_token(
    session: Session,
    user_id: int,
    name: str,
    actor: Actor | None,
    *,
    expires_in_days: int = TOKEN_DAYS_DEFAULT,
) -> ApiTokenCreated:
    """A new token for ``user_id``, valid ``expires_in_days`` (1 to 365; 90 by default)."""
    if actor is not None and actor.id != user_id:
        require_role(actor.user, UserRole.admin)
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the token a name that says where it is used")
    try:
        no_control_characters(name)
    except ValueError as error:
        raise InvalidInput(f"name: {error}") from None
    if not 1 <= expires_in_days <= TOKEN_DAYS_MAX:
        raise InvalidInput(f"expires_in_days: from 1 to {TOKEN_DAYS_MAX}, not {expires_in_days}")
    user = get_user(session, user_id)
    secret = new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret),
        token_prefix=display_prefix(secret),
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session, actor, "api_token.create", "api_token", token.id, after=audit.snapshot(token)
    )
    return ApiTokenCreated.model_validate(
        {**ApiTokenRead.model_validate(token).model_dump(), "token": secret}
    )


def list_api_tokens(session: Session, user_id: int | None = None) -> list[ApiTokenRead]:
    query = sa.select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [ApiTokenRead.model_validate(t) for t in session.scalars(query).all()]


def revoke_api_token(session: Session, token_id: int, actor: Actor) -> ApiTokenRead:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    if token.user_id != actor.id:
        require_role(actor.user, UserRole.admin)
    before = audit.snapshot(token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            "api_token.revoke",
            "api_token",
            token.id,
            before=before,
            after=audit.snapshot(token),
        )
    return ApiTokenRead.model_validate(token)


def user_for_token(session: Session, secret: str, now: datetime) -> User:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token")
    if utc(token.expires_at) <= now:
        raise Unauthorized(
            f"API token {token.token_prefix}… expired on {utc(token.expires_at):%Y-%m-%d}: "
            "create a new one (tenure users token, or the admin page)"
        )
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("the API token's user is deactivated")
    # Touch at most once a minute so busy clients do not turn every read into a write.
    last = token.last_used_at and utc(token.last_used_at)
    if last is None or (now - last).total_seconds() > 60:
        token.last_used_at = now
    return user
