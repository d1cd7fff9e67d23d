"""Admin pages: users and roles, API tokens, import history, connections and their sync runs,
the audit log (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth import service as users
from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, require_role
from tenure.auth.schemas import ApiTokenCreated, UserCreate, UserUpdate
from tenure.connectors import service as connectors
from tenure.errors import TenureError
from tenure.ingest.runs import ImportRunRead, list_runs
from tenure.model import UserRole
from tenure.success.lifecycle_service import lifecycle_models
from tenure.web.render import render

router = APIRouter(prefix="/admin", include_in_schema=False)


def admin_actor(actor: Actor = Depends(page_actor)) -> Actor:
    require_role(actor.user, UserRole.admin)
    return actor


AdminActor = Depends(admin_actor)
Db = DbSession


def _scorecard(request: Request, db: Session) -> dict[str, Any]:
    """The health scorecard in force, or why it cannot be read."""
    from tenure.health.versions import scorecard_in_force

    try:
        return {"scorecard": scorecard_in_force(db, request.app.state.settings.data_dir)}
    except TenureError as error:
        return {"scorecard_error": error.message}


def _admin_page(
    request: Request,
    db: Session,
    *,
    before_id: int | None = None,
    created_token: ApiTokenCreated | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin.html",
        {
            "users": users.list_users(db),
            "roles": list(UserRole),
            "tokens": users.list_api_tokens(db),
            "imports": [ImportRunRead.model_validate(r) for r in list_runs(db, limit=50)],
            "connections": connectors.connections(db),
            "sync_runs": connectors.sync_runs(db, limit=20),
            "vendor_labels": {name: vendor.label for name, vendor in connectors.VENDORS.items()},
            "audit": audit.list_entries(db, limit=50, before_id=before_id),
            "created_token": created_token,
            "lifecycle_models": lifecycle_models(db),
            **_scorecard(request, db),
        },
        db=db,
        json_url="/api/v1/users",
        status_code=status_code,
    )


@router.get("")
def admin_page(
    request: Request,
    before_id: int | None = Query(None, ge=1),
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    return _admin_page(request, db, before_id=before_id)


@router.post("/users")
def create_user(
    email: str = Form(..., max_length=320),
    name: str = Form(..., max_length=200),
    role: UserRole = Form(UserRole.csm),
    password: str = Form("", max_length=200),
    manager_id: str = Form(""),
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    data = UserCreate.model_validate(
        {
            "email": email,
            "name": name,
            "role": role,
            "password": password or None,
            "manager_id": int(manager_id) if manager_id.strip().isdigit() else None,
        }
    )
    users.create_user(db, data, actor)
    return RedirectResponse("/admin#users", status_code=303)


@router.post("/users/{user_id}")
def update_user(
    user_id: int,
    role: UserRole = Form(...),
    manager_id: str = Form(""),
    is_active: str = Form(""),
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    data = UserUpdate(
        role=role,
        manager_id=int(manager_id) if manager_id.strip().isdigit() else None,
        is_active=is_active == "on",
    )
    users.update_user(db, user_id, data, actor)
    return RedirectResponse("/admin#users", status_code=303)


@router.post("/tokens")
def create_token(
    request: Request,
    name: str = Form(..., max_length=200),
    user_id: int = Form(...),
    expires_in_days: int = Form(90),
    actor: Actor = AdminActor,
    db: Session = Db,
) -> Response:
    created = users.create_api_token(db, user_id, name, actor, expires_in_days=expires_in_days)
    # Rendered, not redirected: the secret is shown on this one response only.
    return _admin_page(request, db, created_token=created, status_code=201)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, actor: Actor = AdminActor, db: Session = Db) -> Response:
    users.revoke_api_token(db, token_id, actor)
    return RedirectResponse("/admin#tokens", status_code=303)
