"""Handoffs imported from the CRM, where sales and services recorded them (``tenure import
handoffs``): the same records ``record_handoff`` makes in the console, by the CRM's id.

Each row becomes one handoff; the Required Outcome and Appropriate Experience it captured become
the account's Desired Outcome version of that day (a re-import updates that version, never adds
one; its experience checks are what the touch model promises, ``experience.yaml``), and a row
that captured none confirms the version in force. The fit answers and judgement
are the ones in the account's handoff fields (imported with the accounts), as in the console. The
giver joins the account team as its account executive and a services receiver as implementation
lead. The CRM's owner field stays the owner of record: an import never reassigns an account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.crm_schemas import HandoffImport
from tenure.accounts.schemas import UpsertCounts
from tenure.errors import InvalidInput
from tenure.model import (
    Account,
    AccountHandoff,
    AccountTeamMember,
    AccountTeamRole,
    DesiredOutcome,
    HandoffStep,
    User,
)
from tenure.success import fit, outcome
from tenure.success.book import signing_facts
from tenure.success.outcome_service import follow_experience

# Who sits on the account team after a handoff: the giver of a sales step as the account
# executive; services, given or receiving, as the implementation lead.
GIVER_SEAT = {
    HandoffStep.sales_to_services: AccountTeamRole.account_executive,
    HandoffStep.sales_to_csm: AccountTeamRole.account_executive,
    HandoffStep.services_to_csm: AccountTeamRole.implementation_lead,
}
RECEIVER_SEAT = {HandoffStep.sales_to_services: AccountTeamRole.implementation_lead}
COMPARED = (
    "account_id",
    "step",
    "from_user_id",
    "to_user_id",
    "handed_off_on",
    "desired_outcome_id",
    "fit_answers",
    "success_potential",
    "fit_band",
    "fit_reasons",
    "note",
)


def _user_ids(session: Session, rows: Sequence[HandoffImport], side: str) -> list[int | None]:
    emails = service.ids_by_key(
        session, User, "email", {e for r in rows if (e := getattr(r, f"{side}_user_email"))}
    )
    crm = service.ids_by_key(
        session,
        User,
        "external_id",
        {e for r in rows if (e := getattr(r, f"{side}_user_external_id"))},
    )
    return [
        emails.get(getattr(r, f"{side}_user_email") or "")
        or crm.get(getattr(r, f"{side}_user_external_id") or "")
        for r in rows
    ]


def _outcome(
    session: Session,
    account: Account,
    row: HandoffImport,
    stored: AccountHandoff | None,
    catalog: outcome.ExperienceCatalog,
) -> int | None:
    """The Desired Outcome version this handoff captured (created or updated in place; its
    experience checks are what the touch model promises), else the one in force that day."""
    if row.required_outcome is None:
        return session.scalar(
            sa.select(DesiredOutcome.id)
            .where(
                DesiredOutcome.account_id == account.id,
                DesiredOutcome.effective_from <= row.handed_off_on,
            )
            .order_by(DesiredOutcome.effective_from.desc(), DesiredOutcome.version.desc())
            .limit(1)
        )
    assert row.touch_model is not None  # the schema asks for it with a Required Outcome
    promised = catalog.requirements(row.touch_model)
    values: dict[str, Any] = {
        "effective_from": row.handed_off_on,
        "required_outcome": row.required_outcome,
        "target": row.target().model_dump(),
        "touch_model": row.touch_model.value,
        "requirements": [r.model_dump() for r in promised],
    }
    version = (
        session.get(DesiredOutcome, stored.desired_outcome_id)
        if stored is not None and stored.desired_outcome_id
        else None
    )
    if version is None:
        latest = session.scalar(
            sa.select(sa.func.max(DesiredOutcome.version)).where(
                DesiredOutcome.account_id == account.id
            )
        )
        version = DesiredOutcome(account_id=account.id, version=(latest or 0) + 1)
        session.add(version)
    for name, value in values.items():
        if getattr(version, name) != value:
            setattr(version, name, value)
    session.flush()
    follow_experience(session, account)
    return version.id


def _seat(session: Session, account_id: int, user_id: int | None, role: AccountTeamRole) -> None:
    if user_id is None:
        return
    seated = session.scalar(
        sa.select(AccountTeamMember.id).where(
            AccountTeamMember.account_id == account_id,
            AccountTeamMember.user_id == user_id,
            AccountTeamMember.role == role,
        )
    )
    if seated is None:
        session.add(AccountTeamMember(account_id=account_id, user_id=user_id, role=role))


def upsert_handoffs(session: Session, rows: Sequence[HandoffImport]) -> UpsertCounts:
    """Insert or update handoffs by their CRM id (references are checked by the import)."""
    missing = service.missing_references(session, rows)
    if missing:
        raise InvalidInput(f"{missing[0].field}: {missing[0].message}")
    accounts = service.ids_by_key(
        session, Account, "external_id", {r.account_external_id for r in rows}
    )
    givers, receivers = _user_ids(session, rows, "from"), _user_ids(session, rows, "to")
    stored = {
        h.external_id: h
        for h in session.scalars(
            sa.select(AccountHandoff).where(
                AccountHandoff.external_id.in_([r.external_id for r in rows])
            )
        )
    }
    config = fit.load_fit_config()
    catalog = outcome.load_experience_catalog()
    counts = UpsertCounts()
    for row, giver, receiver in zip(rows, givers, receivers, strict=True):
        account = session.get_one(Account, accounts[row.account_external_id])
        record = stored.get(row.external_id)
        assessment = fit.assess_fit(signing_facts(account), config)
        answers = (account.custom or {}).get("handoff")
        values: dict[str, Any] = {
            "account_id": account.id,
            "step": row.step,
            "from_user_id": giver,
            "to_user_id": receiver,
            "handed_off_on": row.handed_off_on,
            "desired_outcome_id": _outcome(session, account, row, record, catalog),
            "fit_answers": dict(answers) if isinstance(answers, dict) else {},
            "success_potential": assessment.success_potential,
            "fit_band": assessment.fit_band.value,
            "fit_reasons": [assessment.band_reason, *(c.reason for c in assessment.criteria)],
            "note": row.note,
        }
        if record is None:
            session.add(AccountHandoff(external_id=row.external_id, **values))
            counts.inserted += 1
        elif any(getattr(record, k) != values[k] for k in COMPARED):
            for name, value in values.items():
                setattr(record, name, value)
            counts.updated += 1
        else:
            counts.unchanged += 1
        _seat(session, account.id, giver, GIVER_SEAT[row.step])
        if row.step in RECEIVER_SEAT:
            _seat(session, account.id, receiver, RECEIVER_SEAT[row.step])
        session.flush()
    return counts
