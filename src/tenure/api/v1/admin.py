"""Users, roles, API tokens, import history and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tenure.accounts.erasure import erase_person
from tenure.accounts.schemas import ErasureReport
from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store
from tenure.auth import audit
from tenure.auth import service as users
from tenure.auth.permissions import require_role
from tenure.auth.schemas import (
    ApiTokenCreated,
    ApiTokenRead,
    AuditEntry,
    PlainName,
    RowId,
    UserCreate,
    UserRead,
    UserUpdate,
)
from tenure.auth.service import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX
from tenure.ingest.runs import ImportRunRead, list_runs
from tenure.model import UserRole

router = APIRouter(tags=["users and admin"], responses=ERRORS)


class TokenRequest(BaseModel):
    name: PlainName = Field(description="Where the token is used")
    user_id: RowId | None = Field(default=None, description="Admins may create tokens for others")
    expires_in_days: int = Field(
        default=TOKEN_DAYS_DEFAULT, ge=1, le=TOKEN_DAYS_MAX, description="Days the token works"
    )


@router.get("/me", response_model=UserRead, summary="The signed-in user")
def me(actor: Actor = CurrentActor) -> UserRead:
    return UserRead.model_validate(actor.user)


@router.get("/users", response_model=list[UserRead])
def list_users(actor: Actor = CurrentActor, db: Session = Db) -> list[UserRead]:
    return users.list_users(db)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(data: UserCreate, actor: Actor = CurrentActor, db: Session = Db) -> UserRead:
    return users.create_user(db, data, actor)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: int, data: UserUpdate, actor: Actor = CurrentActor, db: Session = Db
) -> UserRead:
    return users.update_user(db, user_id, data, actor)


class SessionsEnded(BaseModel):
    ended: int = Field(description="Console sessions that were signed in and are now ended")


@router.delete(
    "/users/{user_id}/sessions", response_model=SessionsEnded, summary="Sign out everywhere"
)
def end_sessions(user_id: int, actor: Actor = CurrentActor, db: Session = Db) -> SessionsEnded:
    """End every console session of a user (yourself, or anyone for admins); API tokens stay."""
    return SessionsEnded(ended=users.sign_out_everywhere(db, user_id, actor))


@router.get("/tokens", response_model=list[ApiTokenRead], summary="API tokens")
def list_tokens(actor: Actor = CurrentActor, db: Session = Db) -> list[ApiTokenRead]:
    """Admins see every token; others see their own."""
    mine = None if actor.role == UserRole.admin else actor.id
    return users.list_api_tokens(db, mine)


@router.post("/tokens", response_model=ApiTokenCreated, status_code=201)
def create_token(
    data: TokenRequest, actor: Actor = CurrentActor, db: Session = Db
) -> ApiTokenCreated:
    """The token's secret is in this response only; store it now."""
    return users.create_api_token(
        db, data.user_id or actor.id, data.name, actor, expires_in_days=data.expires_in_days
    )


@router.delete("/tokens/{token_id}", response_model=ApiTokenRead)
def revoke_token(token_id: int, actor: Actor = CurrentActor, db: Session = Db) -> ApiTokenRead:
    return users.revoke_api_token(db, token_id, actor)


@router.get("/audit", response_model=list[AuditEntry], summary="The audit log (admins)")
def audit_log(
    limit: int = Query(100, ge=1, le=500),
    before_id: int | None = Query(None, ge=1),
    entity: str | None = Query(None, max_length=64),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[AuditEntry]:
    require_role(actor.user, UserRole.admin)
    return audit.list_entries(db, limit=limit, before_id=before_id, entity=entity)


@router.get("/imports", response_model=list[ImportRunRead], summary="Import history (admins)")
def imports(
    limit: int = Query(50, ge=1, le=500),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> list[ImportRunRead]:
    """The most recent imports first, each rejected file with its row errors."""
    require_role(actor.user, UserRole.admin)
    return [ImportRunRead.model_validate(run) for run in list_runs(db, limit=limit)]


class ErasureRequest(BaseModel):
    person: str = Field(
        min_length=1, max_length=320, description="Their e-mail, contact id or external id"
    )


@router.post(
    "/erasures", response_model=ErasureReport, summary="Erase a person everywhere (admins)"
)
def erase(
    data: ErasureRequest, request: Request, actor: Actor = CurrentActor, db: Session = Db
) -> ErasureReport:
    """Remove a person's contact row, survey links and comments, touchpoint attendance and
    e-mails; their events stay under a random id and their scores unlinked (aggregates kept).
    A POST body, not a URL, so the e-mail never reaches an access log."""
    return erase_person(db, event_store(request), data.person, actor)
