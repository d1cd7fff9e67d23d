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
    Requirement,
    TouchModel,
    load_experience_catalog,
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
            "requirement_rows": requirement_rows(view.current),
            "standard": is_standard(view.current),
            "promises": {t: promised(t) for t in TouchModel},
        },
        db=db,
    )


def _number(text: str, what: str) -> float:
    try:
        return float(text.replace(",", "").replace("%", "").strip())
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not a number") from None


# Blank requirement rows the form offers beyond those already recorded.
SPARE_REQUIREMENT_ROWS = 2
OPS = set(OP_WORDS)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _target(form: dict[str, str], prefix: str, what: str) -> Rule:
    """The rule a row of the form sets: measure, comparison and value (a percent as a share)."""
    field = form.get(f"{prefix}measure", "")
    if field == CUSTOM:
        name = _slug(form.get(f"{prefix}custom_measure", ""))
        if not name:
            raise InvalidInput(
                f"{what}: name the measure the customer reports, e.g. onboarding days"
            )
        field, percent = f"outcome.{name}", False
    elif field in measures():
        percent = measures()[field][1]
    else:
        raise InvalidInput(f"{what}: choose what measures it")
    op = form.get(f"{prefix}op", "gte")
    if op not in OPS:
        raise InvalidInput(f"{what}: {op!r} is not a comparison the form offers")
    value: Any = _number(form.get(f"{prefix}target", ""), f"{what}: target")
    return Rule(field=field, op=op, value=value / 100 if percent else value)


def requirements_from_form(form: dict[str, str]) -> list[Requirement]:
    """The Appropriate Experience's requirements typed on the form (rows left without a measure
    are unused); none when the touch model's promises are chosen or no row is filled."""
    if form.get("standard_requirements"):
        return []
    found: list[Requirement] = []
    row = 0
    while f"req{row}_measure" in form:
        prefix, row = f"req{row}_", row + 1
        if not form.get(f"{prefix}measure"):
            continue
        what = f"Appropriate Experience requirement {row}"
        rule = _target(form, prefix, what)
        description = form.get(f"{prefix}description", "").strip() or target_text(rule)
        key, taken = _slug(description)[:60] or f"requirement_{row}", {r.key for r in found}
        while key in taken:
            key += "_2"
        found.append(Requirement(key=key, description=description, rule=rule))
    return found  # none typed: the service records what the touch model promises


def outcome_from_form(form: dict[str, str], today: date) -> DesiredOutcomeVersion:
    """The form's Desired Outcome as the service's model: a percent target becomes a share, a
    measure the customer reports becomes the fact outcome.<its name>; the Appropriate
    Experience's requirements are the rows typed (or the touch model's promises)."""
    return DesiredOutcomeVersion.model_validate(
        {
            "effective_from": form.get("effective_from") or today,
            "required_outcome": RequiredOutcome(
                text=form.get("required_outcome", ""),
                target=_target(form, "", "Required Outcome"),
            ),
            "appropriate_experience": AppropriateExperience(
                touch_model=TouchModel(form.get("touch_model", "")),
                requirements=requirements_from_form(form),
            ),
        }
    )


def requirement_rows(version: DesiredOutcomeVersion | None) -> list[dict[str, Any]]:
    """The form's requirement rows: those recorded (values as typed: a share as a percent),
    then blank ones."""
    rows: list[dict[str, Any]] = []
    for req in version.appropriate_experience.requirements if version else []:
        rule = req.rule
        custom = rule.field.startswith("outcome.")
        value = rule.value
        if measures().get(rule.field, ("", False))[1] and isinstance(value, int | float):
            value = value * 100
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        rows.append(
            {
                "description": req.description,
                "measure": CUSTOM if custom else rule.field,
                "custom_measure": rule.field.split(".", 1)[1].replace("_", " ") if custom else "",
                "op": rule.op,
                "target": value,
            }
        )
    blank = {"description": "", "measure": "", "custom_measure": "", "op": "gte", "target": ""}
    return rows + [dict(blank) for _ in range(SPARE_REQUIREMENT_ROWS)]


def promised(touch_model: TouchModel) -> list[Requirement]:
    return load_experience_catalog().requirements(touch_model)


def is_standard(version: DesiredOutcomeVersion | None) -> bool:
    """Whether the recorded requirements are exactly what the touch model promises (or none
    is recorded yet): the form then starts with "what this touch model promises" ticked."""
    if version is None:
        return True
    experience = version.appropriate_experience
    return experience.requirements == promised(experience.touch_model)


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
