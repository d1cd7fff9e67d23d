"""Alignment: the handoff of a customer from sales to services (implementation) to the CSM.

Sales records what the customer must achieve (the Desired Outcome: Required Outcome +
Appropriate Experience) and answers the fit questions of ``fit.yaml``; each later handoff may
confirm or revise them. The answers land where the fit framework reads them
(``account.custom["handoff"]`` → facts ``handoff.<key>``), the outcome becomes a new version of the
account's Desired Outcome, and every handoff keeps what was captured and the fit judgement it
gave. The latest handoff says who holds the customer now.

Order [default]: sales → services → CSM, or sales → CSM for customers without implementation;
the first handoff (from sales) must capture both the outcome and the fit answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor
from tenure.dates import utc
from tenure.errors import Conflict, InvalidInput
from tenure.model import (
    Account,
    AccountHandoff,
    AccountOwnership,
    AccountTeamMember,
    AccountTeamRole,
    DesiredOutcome,
    HandoffStep,
    User,
    UserRole,
)
from tenure.success import fit
from tenure.success.outcome import AppropriateExperience, DesiredOutcomeVersion, RequiredOutcome

# Who receives the customer at each step, as an account-team role.
RECEIVER_ROLE = {
    HandoffStep.sales_to_services: AccountTeamRole.implementation_lead,
    HandoffStep.services_to_csm: AccountTeamRole.csm,
    HandoffStep.sales_to_csm: AccountTeamRole.csm,
}
# What may follow the latest step (None: no handoff yet).
NEXT_STEPS: dict[HandoffStep | None, tuple[HandoffStep, ...]] = {
    None: (HandoffStep.sales_to_services, HandoffStep.sales_to_csm),
    HandoffStep.sales_to_services: (HandoffStep.services_to_csm,),
    HandoffStep.services_to_csm: (),
    HandoffStep.sales_to_csm: (),
}
# The user types that hand a customer over at each step, and may never receive it there: sales
# closes the deal and hands it on; services implements and hands it to the CSM.
GIVER_TYPE = {
    HandoffStep.sales_to_services: UserRole.sales,
    HandoffStep.sales_to_csm: UserRole.sales,
    HandoffStep.services_to_csm: UserRole.services,
}
RECEIVER_TYPE = {HandoffStep.sales_to_services: UserRole.services}
TYPE_NOUN = {UserRole.sales: "a sales user", UserRole.services: "a services user"}
HOLDER_TEAM = {
    AccountTeamRole.implementation_lead: "services",
    AccountTeamRole.csm: "csm",
    AccountTeamRole.account_executive: "sales",
}


class FitAnswers(BaseModel):
    """Sales' answers to the fit questions: each fit rated 1–5 (3 = adequate; None = not
    known), and whether the customer is ready, willing and able."""

    model_config = ConfigDict(extra="forbid")

    technical_fit: int | None = Field(default=None, ge=1, le=5)
    functional_fit: int | None = Field(default=None, ge=1, le=5)
    resource_fit: int | None = Field(default=None, ge=1, le=5)
    competence_fit: int | None = Field(default=None, ge=1, le=5)
    experience_fit: int | None = Field(default=None, ge=1, le=5)
    cultural_fit: int | None = Field(default=None, ge=1, le=5)
    ready: bool | None = None
    willing: bool | None = None
    able: bool | None = None


class DesiredOutcomeCapture(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required_outcome: RequiredOutcome
    appropriate_experience: AppropriateExperience


class HandoffCreate(BaseModel):
    step: HandoffStep
    to_user_id: int = Field(description="Who receives the customer")
    from_user_id: int | None = Field(
        default=None, description="Who hands it over; default: whoever holds the customer now"
    )
    on: date | None = Field(default=None, description="Day of the handoff; default: today")
    desired_outcome: DesiredOutcomeCapture | None = None
    fit_answers: FitAnswers | None = None
    note: str | None = Field(default=None, max_length=5000)


class HandoffRead(BaseModel):
    id: int
    step: HandoffStep
    handed_off_on: date
    from_user_id: int | None
    from_user_name: str | None
    to_user_id: int | None
    to_user_name: str | None
    required_outcome: str | None
    touch_model: str | None
    fit_answers: dict[str, Any]
    success_potential: bool | None
    fit_band: str
    fit_reasons: list[str]
    note: str | None
    recorded_by_name: str | None


class Holder(BaseModel):
    """Who holds the customer now, which team they are on, since when and why we say so."""

    user_id: int | None
    user_name: str | None
    team: str  # sales | services | csm | owner
    since: date | None
    reason: str


class HandoffView(BaseModel):
    holder: Holder
    history: list[HandoffRead]  # oldest first
    next_steps: list[HandoffStep]
    # Fit from the answers captured so far (None before any were).
    fit: fit.FitAssessment | None


def _receiver(session: Session, user_id: int, field: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.role == UserRole.viewer:
        raise InvalidInput(f"{field} {user_id}: no active non-viewer user with that id")
    return user


def check_user_types(step: HandoffStep, giver: User, receiver: User) -> None:
    """Sales and services users hand customers over; they receive one only where their team
    does (services takes the implementation from sales). Other roles may stand in for either
    side (a small company's founder sells, a CSM implements)."""
    giving = GIVER_TYPE[step]
    for user, field in ((giver, "from_user_id"), (receiver, "to_user_id")):
        role = user.role
        if role not in TYPE_NOUN:
            continue
        if field == "from_user_id" and role is not giving:
            raise InvalidInput(
                f"from_user_id {user.id}: {user.name} is {TYPE_NOUN[role]}; the handoff "
                f"{_step_words(step)} is given by {TYPE_NOUN[giving]}"
            )
        if field == "to_user_id" and RECEIVER_TYPE.get(step) is not role:
            raise InvalidInput(
                f"to_user_id {user.id}: {user.name} is {TYPE_NOUN[role]} and hands customers "
                f"over; the handoff {_step_words(step)} goes to "
                + ("the implementation lead" if step in RECEIVER_TYPE else "the CSM")
            )


# Each step in plain words, as the pages and messages say it.
STEP_WORDS = {
    HandoffStep.sales_to_services: "from sales to services",
    HandoffStep.sales_to_csm: "from sales to the CSM",
    HandoffStep.services_to_csm: "from services to the CSM",
}


def _step_words(step: HandoffStep) -> str:
    return STEP_WORDS[step]


def _handoffs(session: Session, account_id: int) -> list[AccountHandoff]:
    return list(
        session.scalars(
            sa.select(AccountHandoff)
            .where(AccountHandoff.account_id == account_id)
            .order_by(AccountHandoff.handed_off_on, AccountHandoff.id)
        )
    )


def _seat(session: Session, account_id: int, role: AccountTeamRole) -> User | None:
    return session.scalar(
        sa.select(User)
        .join(AccountTeamMember, AccountTeamMember.user_id == User.id)
        .where(AccountTeamMember.account_id == account_id, AccountTeamMember.role == role)
        .order_by(AccountTeamMember.since, AccountTeamMember.id)
        .limit(1)
    )


def holder(session: Session, account: Account, last: AccountHandoff | None) -> Holder:
    """The receiver of the latest handoff; before any, the account executive (sales still holds
    the customer), else the owner of record."""
    if last is not None:
        user = session.get(User, last.to_user_id) if last.to_user_id else None
        team = HOLDER_TEAM[RECEIVER_ROLE[last.step]]
        return Holder(
            user_id=last.to_user_id,
            user_name=user.name if user else None,
            team=team,
            since=last.handed_off_on,
            reason=f"handed over {_step_words(last.step)} on {last.handed_off_on}",
        )
    executive = _seat(session, account.id, AccountTeamRole.account_executive)
    if executive is not None:
        return Holder(
            user_id=executive.id,
            user_name=executive.name,
            team="sales",
            since=None,
            reason="no handoff recorded yet: the account executive still holds the customer",
        )
    owner = session.get(User, account.owner_id) if account.owner_id else None
    return Holder(
        user_id=owner.id if owner else None,
        user_name=owner.name if owner else None,
        team="owner",
        since=None,
        reason="no handoff recorded and no account executive: the owner of record",
    )


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _read(session: Session, row: AccountHandoff, names: dict[int, str]) -> HandoffRead:
    outcome = (
        session.get(DesiredOutcome, row.desired_outcome_id) if row.desired_outcome_id else None
    )
    return HandoffRead(
        id=row.id,
        step=row.step,
        handed_off_on=row.handed_off_on,
        from_user_id=row.from_user_id,
        from_user_name=names.get(row.from_user_id) if row.from_user_id else None,
        to_user_id=row.to_user_id,
        to_user_name=names.get(row.to_user_id) if row.to_user_id else None,
        required_outcome=outcome.required_outcome if outcome else None,
        touch_model=outcome.touch_model if outcome else None,
        fit_answers=dict(row.fit_answers or {}),
        success_potential=row.success_potential,
        fit_band=row.fit_band,
        fit_reasons=list(row.fit_reasons or []),
        note=row.note,
        recorded_by_name=names.get(row.recorded_by_id) if row.recorded_by_id else None,
    )


def _assess(session: Session, account: Account, as_of: date) -> fit.FitAssessment | None:
    from tenure.success.fit_service import fit_show

    if not isinstance((account.custom or {}).get("handoff"), dict):
        return None
    found = fit_show(session, account.external_id, as_of, fit.load_fit_config(), at_signing=True)
    return found.assessment


def handoff_view(session: Session, account_id: int, as_of: date) -> HandoffView:
    account = get_account(session, account_id)
    rows = _handoffs(session, account_id)
    ids = {i for r in rows for i in (r.from_user_id, r.to_user_id, r.recorded_by_id) if i}
    names = _names(session, ids)
    last = rows[-1] if rows else None
    return HandoffView(
        holder=holder(session, account, last),
        history=[_read(session, r, names) for r in rows],
        next_steps=list(NEXT_STEPS[last.step if last else None]),
        fit=_assess(session, account, as_of),
    )


def _check_order(last: AccountHandoff | None, data: HandoffCreate) -> None:
    allowed = NEXT_STEPS[last.step if last else None]
    if data.step in allowed:
        return
    if not allowed:
        assert last is not None
        raise Conflict(
            f"step: the customer was already handed to the CSM on {last.handed_off_on}; "
            "to change who holds it, reassign the owner"
        )
    raise Conflict(
        f"step: {data.step.value} cannot come "
        + (f"after {last.step.value}" if last else "first")
        + f"; next is {' or '.join(s.value for s in allowed)}"
    )


def _capture_answers(
    session: Session, account: Account, data: HandoffCreate, on: date, actor: Actor
) -> None:
    """Store the answers where the fit framework reads them (audited before/after); a handoff
    that captures nothing new leaves them, and the day they were captured, as they were."""
    if data.fit_answers is None and data.desired_outcome is None:
        return
    before = dict((account.custom or {}).get("handoff") or {})
    answers = {**before, "captured_on": on.isoformat()}
    if data.fit_answers is not None:
        answers.update(data.fit_answers.model_dump())
    if data.desired_outcome is not None:
        answers["required_outcome"] = data.desired_outcome.required_outcome.text
    account.custom = {**(account.custom or {}), "handoff": answers}
    session.flush()
    audit.record(
        session,
        actor,
        "account.handoff_answers",
        "account",
        account.id,
        before={"handoff": before or None},
        after={"handoff": answers},
    )


def _capture_outcome(
    session: Session, account: Account, data: HandoffCreate, on: date, actor: Actor
) -> int | None:
    """A new Desired Outcome version when one was captured, else the latest one (confirmed)."""
    from tenure.success.outcome_service import set_desired_outcome

    if data.desired_outcome is None:
        return session.scalar(
            sa.select(DesiredOutcome.id)
            .where(DesiredOutcome.account_id == account.id, DesiredOutcome.effective_from <= on)
            .order_by(DesiredOutcome.effective_from.desc(), DesiredOutcome.version.desc())
            .limit(1)
        )
    version = DesiredOutcomeVersion(
        effective_from=on,
        required_outcome=data.desired_outcome.required_outcome,
        appropriate_experience=data.desired_outcome.appropriate_experience,
    )
    row = set_desired_outcome(session, actor, account.external_id, version)
    return row.id


def _seat_receiver(
    session: Session, account: Account, step: HandoffStep, user: User, actor: Actor, on: date
) -> None:
    """The receiver joins the account team in their role, unless already there; the CSM
    becomes the account's owner from the handoff day."""
    from tenure.portfolio.team import TeamMemberCreate, add_team_member

    role = RECEIVER_ROLE[step]
    if role == AccountTeamRole.csm:
        # Handing the customer to the CSM makes them its owner: the CTAs, digests and per-CSM
        # KPIs that follow the owner go to the person who now holds the customer.
        if account.owner_id != user.id:
            from tenure.portfolio.owners import transfer_ownership

            # From the handoff day, never before the span it closes began.
            current = session.scalar(
                sa.select(sa.func.max(AccountOwnership.started_at)).where(
                    AccountOwnership.account_id == account.id,
                    AccountOwnership.ended_at.is_(None),
                )
            )
            at = datetime.combine(on, time(), UTC)
            if current is not None and utc(current) > at:
                at = utc(current)
            transfer_ownership(session, account, user, actor, at)
        return
    seated = session.scalar(
        sa.select(AccountTeamMember.id).where(
            AccountTeamMember.account_id == account.id,
            AccountTeamMember.user_id == user.id,
            AccountTeamMember.role == role,
        )
    )
    if seated is None:
        add_team_member(session, account.id, TeamMemberCreate(user_id=user.id, role=role), actor)


def record_handoff(
    session: Session, account_id: int, data: HandoffCreate, actor: Actor, as_of: date
) -> HandoffRead:
    """Record one handoff: check the order and the receiver, capture the Desired Outcome and
    the fit answers, judge fit from them, seat the receiver on the team — all audited."""
    account = get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    rows = _handoffs(session, account_id)
    last = rows[-1] if rows else None
    _check_order(last, data)
    if last is None:
        missing = [f for f in ("desired_outcome", "fit_answers") if getattr(data, f) is None]
        if missing:
            raise InvalidInput(
                f"{', '.join(missing)}: the first handoff from sales must capture the Desired "
                "Outcome (required outcome + appropriate experience) and the fit answers"
            )
    receiver = _receiver(session, data.to_user_id, "to_user_id")
    giver_id = data.from_user_id or holder(session, account, last).user_id or actor.id
    giver = _receiver(session, giver_id, "from_user_id")
    check_user_types(data.step, giver, receiver)
    on = data.on or as_of
    if last is not None and on < last.handed_off_on:
        raise InvalidInput(f"on: {on} is before the previous handoff ({last.handed_off_on})")
    _capture_answers(session, account, data, on, actor)
    outcome_id = _capture_outcome(session, account, data, on, actor)
    assessment = _assess(session, account, on)
    assert assessment is not None  # answers were just captured
    row = AccountHandoff(
        account_id=account.id,
        step=data.step,
        from_user_id=giver_id,
        to_user_id=receiver.id,
        handed_off_on=on,
        desired_outcome_id=outcome_id,
        fit_answers=dict(account.custom["handoff"]),
        success_potential=assessment.success_potential,
        fit_band=assessment.fit_band.value,
        fit_reasons=[assessment.band_reason, *(c.reason for c in assessment.criteria)],
        note=data.note,
        recorded_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "handoff.record", "account_handoff", row.id, after=audit.snapshot(row)
    )
    _seat_receiver(session, account, data.step, receiver, actor, on)
    return _read(session, row, _names(session, {giver_id, receiver.id, actor.id}))
