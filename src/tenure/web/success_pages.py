"""The Desired Outcome and success plan page of an account: set a new version of the Desired
Outcome (Required Outcome with its measure, Appropriate Experience), create the plan, add
milestones and mark them reached — the same services as `tenure outcome set` and `tenure
milestones plan|mark` (the account's editors, audited). Forms are parsed here into the models
those services take; every measure, comparison and experience is offered in words."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.accounts import service as accounts
from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.errors import InvalidInput
from tenure.http.deps import AsOf
from tenure.metrics.registry import Unit, all_metrics
from tenure.success import milestones_service, outcome_service
from tenure.success.milestones import MilestoneType, Owner, load_milestone_config
from tenure.success.outcome import (
    AppropriateExperience,
    DesiredOutcomeVersion,
    RequiredOutcome,
    TouchModel,
)
from tenure.success.rules import Rule
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)

TOUCH_WORDS = {
    TouchModel.high_touch: "High touch: a named CSM, regular meetings and reviews",
    TouchModel.mid_touch: "Mid touch: pooled CSMs, scheduled reviews",
    TouchModel.low_touch: "Low touch: one-to-many programmes, a CSM when needed",
    TouchModel.tech_touch: "Tech touch: in-product and e-mail only",
}
OP_WORDS = {"lte": "at most", "lt": "under", "gte": "at least", "gt": "over", "eq": "exactly"}
TYPE_WORDS = {
    MilestoneType.functional: "Functional (a step of rollout)",
    MilestoneType.success: "Success (a result the customer wanted)",
}
OWNER_WORDS = {Owner.customer: "The customer", Owner.vendor: "Us"}
# Metrics that describe the calendar or the contract, not a result a customer works toward.
_NOT_OUTCOMES = {"days_to_renewal", "tenure_days", "discount", "arr", "arr_currency"}
_MEASURED_UNITS = {Unit.number, Unit.share, Unit.days}
CUSTOM = "custom"


def measures() -> dict[str, tuple[str, bool]]:
    """The facts a Required Outcome can be measured by → (its name, whether it is a percent)."""
    found = {
        f"usage.{m.slug}": (m.name, m.unit is Unit.share)
        for m in all_metrics()
        if m.unit in _MEASURED_UNITS and m.slug not in _NOT_OUTCOMES
    }
    return {**found, "nps.last": ("Latest NPS answer (0–10)", False)}


def measure_label(field: str) -> str:
    """A target's fact in words: usage.license_utilization → License utilization."""
    known = measures().get(field)
    if known:
        return known[0]
    return field.split(".", 1)[-1].replace("_", " ").capitalize()


def target_text(rule: Rule) -> str:
    """'License utilization at least 80 %', 'Onboarding days at most 14'."""
    value = rule.value
    if measures().get(rule.field, ("", False))[1] and isinstance(value, int | float):
        shown = f"{value * 100:.0f} %"
    elif isinstance(value, float) and value.is_integer():
        shown = f"{value:.0f}"
    else:
        shown = str(value)
    return f"{measure_label(rule.field)} {OP_WORDS.get(rule.op, rule.op)} {shown}"


@router.get("/accounts/{account_id}/success-plan")
def success_plan_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = DbSession,
    as_of: date = AsOf,
) -> Response:
    view = milestones_service.plan_editor(db, account_id, actor, as_of)
    return render(
        request,
        "success_plan.html",
        {
            "v": view,
            "measures": measures(),
            "op_words": OP_WORDS,
            "touch_words": TOUCH_WORDS,
            "type_words": TYPE_WORDS,
            "owner_words": OWNER_WORDS,
            "target_text": target_text,
            "today": as_of,
        },
        db=db,
    )


def _number(text: str, what: str) -> float:
    try:
        return float(text.replace(",", "").replace("%", "").strip())
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a number") from None


def outcome_from_form(form: dict[str, str], today: date) -> DesiredOutcomeVersion:
    """The form's Desired Outcome as the service's model: a percent target becomes a share, a
    measure the customer reports becomes the fact outcome.<its name>."""
    field = form.get("measure", "")
    if field == CUSTOM:
        name = re.sub(r"[^a-z0-9]+", "_", form.get("custom_measure", "").lower()).strip("_")
        if not name:
            raise InvalidInput("name the measure the customer reports, e.g. onboarding days")
        field, percent = f"outcome.{name}", False
    elif field in measures():
        percent = measures()[field][1]
    else:
        raise InvalidInput("choose what measures the Required Outcome")
    value: Any = _number(form.get("target", ""), "target")
    if percent:
        value = value / 100
    return DesiredOutcomeVersion.model_validate(
        {
            "effective_from": form.get("effective_from") or today,
            "required_outcome": RequiredOutcome(
                text=form.get("required_outcome", ""),
                target=Rule(field=field, op=form.get("op", "gte"), value=value),
            ),
            "appropriate_experience": AppropriateExperience(
                touch_model=TouchModel(form.get("touch_model", "")),
                requirements=[],
            ),
        }
    )


def _back(account_id: int, anchor: str) -> Response:
    return RedirectResponse(f"/accounts/{account_id}/success-plan#{anchor}", status_code=303)


@router.post("/accounts/{account_id}/desired-outcome")
async def set_outcome_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = DbSession,
    as_of: date = AsOf,
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    account = accounts.get_account(db, account_id)
    try:
        version = outcome_from_form(form, as_of)
    except ValueError as error:  # the model's own checks (a blank outcome, a bad date)
        raise InvalidInput(str(error).split("\n")[-1].strip()) from None
    outcome_service.set_desired_outcome(db, actor, account.external_id, version)
    return _back(account_id, "desired-outcome")


@router.post("/accounts/{account_id}/success-plan")
def create_plan_page(
    account_id: int, actor: Actor = PageActor, db: Session = DbSession
) -> Response:
    account = accounts.get_account(db, account_id)
    made = milestones_service.create_plans(
        db, actor, load_milestone_config(), [account.external_id]
    )
    if not made:
        raise InvalidInput(f"{account.name} has no contract yet: a plan starts at the first one")
    return _back(account_id, "plan")


@router.post("/accounts/{account_id}/milestones")
def add_milestone_page(
    account_id: int,
    name: str = Form(..., max_length=200),
    type: MilestoneType = Form(MilestoneType.success),
    owner: Owner = Form(Owner.customer),
    due_on: date = Form(...),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    account = accounts.get_account(db, account_id)
    milestones_service.add_milestone(
        db, actor, account.external_id, name=name, type=type, owner=owner, due_on=due_on
    )
    return _back(account_id, "plan")


@router.post("/accounts/{account_id}/milestones/{key}/reached")
def mark_milestone_page(
    account_id: int,
    key: str,
    on: date = Form(...),
    evidence: str = Form("", max_length=2000),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    account = accounts.get_account(db, account_id)
    milestones_service.mark_milestone(
        db, actor, account.external_id, key, on, evidence.strip() or None
    )
    return _back(account_id, "plan")
