"""Sales → CS handoffs and advocacy from the CRM's custom objects (tests/fixtures/exports/
salesforce/README.md): the Desired Outcome each handoff captured, the people on the account team,
and the success stories, references and referrals the evangelism figures read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import RejectedFile
from tenure.model import (
    Account,
    AccountHandoff,
    AccountTeamMember,
    AccountTeamRole,
    AdvocacyKind,
    Contact,
    DesiredOutcome,
    HandoffStep,
    Referral,
    User,
    UserRole,
)
from tests import factories as f
from tests.ingest.helpers import counts, run_import, write_rows
from tests.stored import stored

SALESFORCE = Path(__file__).parents[1] / "fixtures" / "exports" / "salesforce"
SOCIETE, MUELLER, PARIS = "0015e00000Soc1AAAR", "0015e00000Mue3CAAR", "0015e00000Soc2BAAR"


def _company(session: Session) -> tuple[User, User]:
    """The CRM's users and accounts, a sales rep and an implementation consultant."""
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    run_import(session, "accounts", SALESFORCE / "Account_extract_utf8.csv", "salesforce-accounts")
    run_import(session, "contacts", SALESFORCE / "Contact_extract_utf16.csv", "salesforce-contacts")
    sam = f.user(session, email="sam.sales@tenure-demo.example", name="Sam", role=UserRole.sales)
    ida = f.user(session, email="ida@tenure-demo.example", name="Ida", role=UserRole.services)
    sam.external_id, ida.external_id = "0055e000001Sal1AAC", "0055e000001Srv1AAC"
    session.flush()
    return sam, ida


def test_handoffs_from_a_custom_object_extract(session: Session) -> None:
    sam, ida = _company(session)
    zoe = stored(session, User, "0055e000001OwnAAAS")
    export = SALESFORCE / "CS_Handoff__c_extract.csv"
    assert counts(run_import(session, "handoffs", export, "salesforce-handoffs")) == (3, 0, 0)

    first = stored(session, AccountHandoff, "a0B5e00000Hnd01EAB")
    societe = stored(session, Account, SOCIETE)
    assert (first.account_id, first.step, first.handed_off_on) == (
        societe.id,
        HandoffStep.sales_to_services,
        date(2026, 2, 2),
    )
    assert (first.from_user_id, first.to_user_id) == (sam.id, ida.id)
    assert first.note == "Signed for the new fiscal year.\nCFO wants a monthly check-in."
    outcome = session.get_one(DesiredOutcome, first.desired_outcome_id)
    assert (outcome.version, outcome.effective_from, outcome.touch_model) == (
        1,
        date(2026, 2, 2),
        "high_touch",
    )
    assert outcome.required_outcome == "Close the books in three days, not ten"
    # The measure named alone is the outcome measurement the CS team records on the account.
    assert outcome.target == {"field": "outcome.close_days", "op": "lte", "value": 3.0}
    # A high-touch experience recorded without checks gets what high touch promises.
    assert [r["key"] for r in outcome.requirements] == [
        "monthly_contact",
        "sponsor_met",
        "no_blocking_ticket",
    ]
    # The account is now segmented by the experience it needs, not by what it pays.
    assert societe.experience_segment == "high_touch"
    # Services handed it to the CSM, capturing nothing new: the outcome in force is confirmed.
    second = stored(session, AccountHandoff, "a0B5e00000Hnd02EAB")
    assert (second.from_user_id, second.to_user_id) == (ida.id, zoe.id)
    assert second.desired_outcome_id == outcome.id
    # The 15-character account id of Müller's row finds the account.
    third = stored(session, AccountHandoff, "a0B5e00000Hnd03EAB")
    mueller = stored(session, Account, MUELLER)
    assert (third.account_id, third.step, third.from_user_id) == (
        mueller.id,
        HandoffStep.sales_to_csm,
        sam.id,
    )
    assert mueller.experience_segment == "tech_touch"
    # Sam sits on both teams as account executive, Ida on Société's as implementation lead;
    # the CRM's owner stays the owner: an import never reassigns an account.
    seats = set(
        session.execute(
            sa.select(
                AccountTeamMember.account_id, AccountTeamMember.user_id, AccountTeamMember.role
            )
        )
    )
    assert seats == {
        (societe.id, sam.id, AccountTeamRole.account_executive),
        (societe.id, ida.id, AccountTeamRole.implementation_lead),
        (mueller.id, sam.id, AccountTeamRole.account_executive),
    }
    assert societe.owner_id == zoe.id

    # A re-import changes nothing and adds no Desired Outcome version.
    assert counts(run_import(session, "handoffs", export, "salesforce-handoffs")) == (0, 0, 3)
    assert session.scalar(sa.select(sa.func.count()).select_from(DesiredOutcome)) == 2


def test_a_required_outcome_without_its_measure_is_refused_with_its_line(
    session: Session, tmp_path: Path
) -> None:
    _company(session)
    row = {
        "external_id": "h-1",
        "account_external_id": SOCIETE,
        "step": "sales_to_csm",
        "handed_off_on": "2026-02-02",
        "to_user_email": "zoe.martin@tenure-demo.example",
        "required_outcome": "Close the books in three days",
        "touch_model": "high_touch",
    }
    path = write_rows(
        tmp_path,
        "handoffs",
        "csv",
        [
            row,
            {
                **row,
                "external_id": "h-2",
                "outcome_measure": "close_days",
                "outcome_op": "about",
                "outcome_target": "3",
            },
        ],
    )
    with pytest.raises(RejectedFile) as refused:
        run_import(session, "handoffs", path)
    errors = [(e.line, e.reason) for e in refused.value.errors]
    assert errors[0][0] == 2 and errors[0][1].startswith(
        "outcome_measure, outcome_op, outcome_target: a Required Outcome needs the measure"
    )
    assert errors[1][0] == 3 and "outcome_op: unknown operator 'about'" in errors[1][1]
    assert session.scalar(sa.select(sa.func.count()).select_from(AccountHandoff)) == 0


def test_advocacy_from_a_reference_program_extract(session: Session) -> None:
    _company(session)
    export = SALESFORCE / "Customer_Advocacy__c_extract.csv"
    assert counts(run_import(session, "advocacy", export, "salesforce-advocacy")) == (3, 0, 0)
    story = stored(session, Referral, "a0C5e00000Adv01EAB")
    zoe_lefevre = stored(session, Contact, "0035e00000Con1AAAR")
    assert (story.kind, story.occurred_on, story.title, story.contact_id) == (
        AdvocacyKind.case_study,
        date(2026, 6, 10),
        "Month-end close in three days",
        zoe_lefevre.id,
    )
    referral = stored(session, Referral, "a0C5e00000Adv02EAB")
    assert (referral.kind, referral.referred_account_id, referral.note) == (
        AdvocacyKind.referral,
        stored(session, Account, PARIS).id,
        "Introduced their sister company",
    )
    speaker = stored(session, Referral, "a0C5e00000Adv03EAB")
    assert (speaker.kind, speaker.title) == (AdvocacyKind.speaker, "Pulse 2026 customer panel")
    assert counts(run_import(session, "advocacy", export, "salesforce-advocacy")) == (0, 0, 3)
