"""The Alignment page of an account: the team's shared view, the handoff form, the rescue CTA.

Forms are parsed here into the same models /api/v1 takes, then handed to the same services.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.http.deps import AsOf
from tenure.model.base import utcnow
from tenure.portfolio import alignment, handoff, owners, rescue
from tenure.success.outcome import TouchModel
from tenure.success.rules import OPERATORS
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)

FIT_QUESTIONS = [
    ("technical_fit", "Technical fit: their stack and integrations are supported"),
    ("functional_fit", "Functional fit: the features they need exist today"),
    ("resource_fit", "Resource fit: money, time and people committed"),
    ("competence_fit", "Competence fit: someone in-house can own the product"),
    ("experience_fit", "Experience fit: we offer the experience they need"),
    ("cultural_fit", "Cultural fit: their way of working matches ours"),
]
READINESS = [("ready", "Ready"), ("willing", "Willing"), ("able", "Able")]


@router.get("/accounts/{account_id}/alignment")
def alignment_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = DbSession,
    as_of: date = AsOf,
) -> Response:
    view = alignment.alignment_view(db, account_id, actor, as_of)
    return render(
        request,
        "alignment.html",
        {
            "v": view,
            "people": owners.owner_choices(db),
            "fit_questions": FIT_QUESTIONS,
            "readiness": READINESS,
            "touch_models": list(TouchModel),
            "step_words": {step.value: words for step, words in handoff.STEP_WORDS.items()},
            "operators": OPERATORS,
            "today": as_of,
        },
        db=db,
        json_url=f"/api/v1/accounts/{account_id}/alignment",
    )


def _typed(text: str) -> Any:
    """A target value typed in a form: a number, true/false, or the text itself."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def handoff_from_form(form: dict[str, str]) -> handoff.HandoffCreate:
    """The handoff form as the API's model; an outcome or answers left blank are not captured."""
    answers: dict[str, Any] = {key: int(form[key]) for key, _ in FIT_QUESTIONS if form.get(key)}
    answers |= {key: form[key] == "yes" for key, _ in READINESS if form.get(key)}
    outcome = None
    if form.get("required_outcome", "").strip():
        outcome = {
            "required_outcome": {
                "text": form["required_outcome"],
                "target": {
                    "field": form.get("target_field", ""),
                    "op": form.get("target_op", ""),
                    "value": _typed(form.get("target_value", "")),
                },
            },
            "appropriate_experience": {"touch_model": form.get("touch_model", "")},
        }
    return handoff.HandoffCreate.model_validate(
        {
            "step": form.get("step"),
            "to_user_id": form.get("to_user_id"),
            "from_user_id": form.get("from_user_id") or None,
            "on": form.get("on") or None,
            "desired_outcome": outcome,
            "fit_answers": answers or None,
            "note": form.get("note") or None,
        }
    )


@router.post("/accounts/{account_id}/handoffs")
async def record_handoff_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = DbSession,
    as_of: date = AsOf,
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    handoff.record_handoff(db, account_id, handoff_from_form(form), actor, as_of)
    return RedirectResponse(f"/accounts/{account_id}/alignment#handoffs", status_code=303)


@router.post("/accounts/{account_id}/rescue")
async def request_rescue_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = DbSession,
    as_of: date = AsOf,
) -> Response:
    form = await request.form()
    data = rescue.RescueRequest.model_validate({"reason": form.get("reason") or ""})
    rescue.request_rescue(db, account_id, data, actor, as_of, utcnow())
    return RedirectResponse(f"/accounts/{account_id}/alignment#rescue", status_code=303)
