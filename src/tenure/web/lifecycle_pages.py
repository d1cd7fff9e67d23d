"""The lifecycle in the console: accounts per stage of the model in force (each stage opening the
portfolio filtered to it), what each stage means and who named it, and the admin's choice of
model — the same service as `tenure lifecycle` and /api/v1/lifecycle."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.http.deps import AsOf
from tenure.model import UserRole
from tenure.success import lifecycle_service
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession


@router.get("/lifecycle")
def lifecycle_page(request: Request, actor: Actor = PageActor, db: Session = Db) -> Response:
    """The stages the daily run saved (a stored judgement, fast on any book)."""
    return render(
        request,
        "lifecycle.html",
        {
            "view": lifecycle_service.stored_stages(db),
            "is_admin": actor.role is UserRole.admin,
            "lifecycle_models": lifecycle_service.lifecycle_models(db),
        },
        db=db,
        json_url="/api/v1/lifecycle/stages",
    )


@router.post("/admin/lifecycle-model")
def choose_model(
    model: str = Form(..., max_length=32),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    """Admins only (the service refuses anyone else), audited."""
    lifecycle_service.set_lifecycle_model(db, model, actor, as_of)
    return RedirectResponse("/lifecycle", status_code=303)
