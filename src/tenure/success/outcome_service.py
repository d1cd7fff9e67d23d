"""Desired Outcome: store its versions, judge the one in force, group by experience."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor
from tenure.errors import NotFound
from tenure.model import Account, DesiredOutcome
from tenure.success import outcome
from tenure.success.book import account_facts, load_one
from tenure.success.rules import Rule
from tenure.success.schemas import OutcomeView


def outcome_version(row: DesiredOutcome) -> outcome.DesiredOutcomeVersion:
    return outcome.DesiredOutcomeVersion(
        effective_from=row.effective_from,
        required_outcome=outcome.RequiredOutcome(
            text=row.required_outcome, target=Rule.model_validate(row.target)
        ),
        appropriate_experience=outcome.AppropriateExperience(
            touch_model=outcome.TouchModel(row.touch_model),
            requirements=[outcome.Requirement.model_validate(r) for r in row.requirements],
        ),
    )


def set_desired_outcome(
    session: Session, actor: Actor, external_id: str, version: outcome.DesiredOutcomeVersion
) -> DesiredOutcome:
    """Store a new version (earlier ones stay: the Desired Outcome evolves); the account's
    editors only, audited. An experience recorded without requirements gets what its touch
    model promises (``experience.yaml``)."""
    account = get_account(session, external_id)
    require_account_editor(session, actor.user, account)
    latest = (
        session.scalar(
            sa.select(sa.func.max(DesiredOutcome.version)).where(
                DesiredOutcome.account_id == account.id
            )
        )
        or 0
    )
    experience = outcome.with_promised_requirements(
        version.appropriate_experience, outcome.load_experience_catalog()
    )
    row = DesiredOutcome(
        account_id=account.id,
        version=latest + 1,
        effective_from=version.effective_from,
        required_outcome=version.required_outcome.text,
        target=version.required_outcome.target.model_dump(),
        touch_model=experience.touch_model.value,
        requirements=[r.model_dump() for r in experience.requirements],
        author_id=actor.id,
    )
    session.add(row)
    session.flush()
    follow_experience(session, account)
    audit.record(
        session,
        actor,
        "desired_outcome.create",
        "desired_outcome",
        row.id,
        after=audit.snapshot(row),
    )
    return row


def follow_experience(session: Session, account: Account) -> None:
    """The account's experience segment follows the Appropriate Experience of its latest Desired
    Outcome version: success plans and health profiles are segmented by it, not by price."""
    touch_model = session.scalar(
        sa.select(DesiredOutcome.touch_model)
        .where(DesiredOutcome.account_id == account.id)
        .order_by(DesiredOutcome.effective_from.desc(), DesiredOutcome.version.desc())
        .limit(1)
    )
    if touch_model is not None and account.experience_segment != touch_model:
        account.experience_segment = touch_model
        session.flush()


def outcome_versions(session: Session, account_id: int) -> list[outcome.DesiredOutcomeVersion]:
    rows = session.scalars(
        sa.select(DesiredOutcome)
        .where(DesiredOutcome.account_id == account_id)
        .order_by(DesiredOutcome.version)
    )
    return [outcome_version(r) for r in rows]


def outcome_show(session: Session, external_id: str, as_of: date) -> OutcomeView:
    book, account = load_one(session, external_id, as_of)
    versions = outcome_versions(session, account.id)
    if not versions:
        raise NotFound(
            f"account {external_id!r} has no Desired Outcome yet: set one with `tenure outcome set`"
        )
    current = outcome.current_version(versions, as_of)
    if current is None:
        starts = min(v.effective_from for v in versions)
        raise NotFound(
            f"account {external_id!r} has no Desired Outcome in force on {as_of}: "
            f"the first starts on {starts}"
        )
    status = outcome.evaluate_outcome(current, account_facts(book, account.id))
    ms = book.milestones[account.id]
    functional = [m for m in ms if m.type == "functional"]
    reached = sum(1 for m in functional if m.reached_on and m.reached_on <= as_of)
    return OutcomeView(
        account=account.external_id,
        versions=len(versions),
        status=status,
        success_gap=outcome.success_gap(reached, len(functional), status.required_met),
        accountable_share=outcome.accountable_share(m.owner for m in ms),
    )


def experience_segments(session: Session, as_of: date) -> dict[str, list[str]]:
    """Accounts grouped by Appropriate Experience: the touch model of the Desired Outcome in force,
    else the account's ``experience_segment``."""
    latest: dict[int, outcome.TouchModel] = {}
    rows = session.scalars(
        sa.select(DesiredOutcome)
        .where(DesiredOutcome.effective_from <= as_of)
        .order_by(DesiredOutcome.effective_from, DesiredOutcome.version)
    )
    for row in rows:
        latest[row.account_id] = outcome.TouchModel(row.touch_model)
    groups: dict[str, list[str]] = defaultdict(list)
    for account_id, ext, fallback in session.execute(
        sa.select(Account.id, Account.external_id, Account.experience_segment).order_by(
            Account.external_id
        )
    ):
        model = latest.get(account_id)
        groups[model.value if model else (fallback or "(not captured)")].append(ext)
    return dict(sorted(groups.items()))
