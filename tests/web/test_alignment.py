"""Alignment: handoffs from sales to services to the CSM, and rescue CTAs raised by sales and
support — over /api/v1 and the console page, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.model import (
    AccountHandoff,
    AccountTeamMember,
    AccountTeamRole,
    AuditLog,
    Cta,
    CtaEvent,
    DesiredOutcome,
    RuleEvaluation,
    User,
    UserRole,
)
from tenure.model.account import Account
from tests import factories as f
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

OUTCOME = {
    "required_outcome": {
        "text": "Halve onboarding time for new reps",
        "target": {"field": "outcome.onboarding_days", "op": "lte", "value": 14},
    },
    "appropriate_experience": {"touch_model": "high_touch"},
}
# Technical and functional fit (the two `must` criteria of fit.yaml) are adequate or better.
ANSWERS = {"technical_fit": 4, "functional_fit": 3, "resource_fit": 2, "ready": True}


@dataclass
class Team:
    """Acme's team besides Cleo (its owner): people who own no accounts."""

    sally: User  # account executive: a sales user
    ivan: User  # will receive the customer as implementation lead: a services user
    sue: User  # support lead
    headers: dict[str, dict[str, str]]


@pytest.fixture
def team(console: Console) -> Team:
    with console.session() as session:
        sally = f.user(session, email="sally@example.com", name="Sally Sales", role=UserRole.sales)
        ivan = f.user(
            session, email="ivan@example.com", name="Ivan Implementation", role=UserRole.services
        )
        sue = f.user(session, email="sue@example.com", name="Sue Support")
        acme = session.get_one(Account, console.book.acme.id)
        acme.employee_count = 120  # inside the ICP's size; its segment "Enterprise" is not
        for user, role in [
            (sally, AccountTeamRole.account_executive),
            (sue, AccountTeamRole.support_lead),
        ]:
            session.add(AccountTeamMember(account_id=acme.id, user_id=user.id, role=role))
        emails = ["sally", "ivan", "sue", "cleo", "sam", "vic", "max"]
        headers = {}
        for name in emails:
            user = session.scalar(sa.select(User).where(User.email == f"{name}@example.com"))
            assert user is not None
            headers[name] = token_headers(session, user)
        session.commit()
    return Team(sally, ivan, sue, headers)


def _post(console: Console, team: Team, who: str, path: str, body: dict[str, Any]) -> Any:
    return console.client.post(path, json=body, headers=team.headers[who])


def test_handoff_from_sales_to_services_to_the_csm(console: Console, team: Team) -> None:
    acme = console.book.acme.id
    path = f"/api/v1/accounts/{acme}/handoffs"
    before = console.client.get(path, headers=team.headers["sally"]).json()
    assert before["holder"] == {
        "user_id": team.sally.id,
        "user_name": "Sally Sales",
        "team": "sales",
        "since": None,
        "reason": "no handoff recorded yet: the account executive still holds the customer",
    }
    assert before["next_steps"] == ["sales_to_services", "sales_to_csm"]

    missing = _post(console, team, "sally", path, {"step": "sales_to_services", "to_user_id": 1})
    assert missing.status_code == 422
    assert missing.json()["message"].startswith("desired_outcome, fit_answers: the first handoff")
    wrong_order = {"step": "services_to_csm", "to_user_id": console.book.cleo.id}
    assert _post(console, team, "sally", path, wrong_order).status_code == 409

    first = _post(
        console,
        team,
        "sally",
        path,
        {
            "step": "sales_to_services",
            "to_user_id": team.ivan.id,
            "desired_outcome": OUTCOME,
            "fit_answers": ANSWERS,
            "note": "Signed for the Q3 hiring wave",
        },
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["from_user_name"], body["to_user_name"]) == ("Sally Sales", "Ivan Implementation")
    assert body["required_outcome"] == "Halve onboarding time for new reps"
    assert body["touch_model"] == "high_touch"
    # Both must criteria pass; 120 people is inside the ICP but "Enterprise" is not one of its
    # segments (mid_market, enterprise): Success Potential outside the ICP is a stretch.
    assert body["success_potential"] is True and body["fit_band"] == "stretch"
    assert body["fit_reasons"][0] == "Success Potential, outside the Ideal Customer Profile"
    assert body["fit_answers"]["technical_fit"] == 4 and body["fit_answers"]["cultural_fit"] is None

    # Ivan now sits on the team as implementation lead, so he may hand over to the CSM; he keeps
    # the outcome and answers in force.
    second = _post(
        console, team, "ivan", path, {"step": "services_to_csm", "to_user_id": console.book.cleo.id}
    )
    assert second.status_code == 201, second.text
    assert second.json()["required_outcome"] == "Halve onboarding time for new reps"
    assert second.json()["from_user_name"] == "Ivan Implementation"

    after = console.client.get(path, headers=team.headers["vic"]).json()  # a viewer reads it
    assert after["holder"]["user_name"] == "Cleo CSM" and after["holder"]["team"] == "csm"
    assert [h["step"] for h in after["history"]] == ["sales_to_services", "services_to_csm"]
    assert after["next_steps"] == []
    assert after["fit"]["readiness"]["met"] == ["ready"]
    again = _post(console, team, "cleo", path, {"step": "services_to_csm", "to_user_id": 1})
    assert again.status_code == 409 and "reassign the owner" in again.json()["message"]

    with console.session() as session:
        account = session.get_one(Account, acme)
        assert account.custom["handoff"]["required_outcome"] == "Halve onboarding time for new reps"
        assert account.custom["handoff"]["functional_fit"] == 3
        assert account.custom["handoff"]["captured_on"] == console.book.today.isoformat()
        outcomes = session.scalars(
            sa.select(DesiredOutcome).where(DesiredOutcome.account_id == acme)
        )
        assert [o.version for o in outcomes] == [1]
        seats = session.execute(
            sa.select(AccountTeamMember.user_id, AccountTeamMember.role).where(
                AccountTeamMember.account_id == acme
            )
        ).all()
        assert (team.ivan.id, AccountTeamRole.implementation_lead) in seats
        actions = session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.action != "api_token.create")
            .order_by(AuditLog.id)
        ).all()
    assert actions == [
        "account.handoff_answers",
        "desired_outcome.create",
        "handoff.record",
        "account_team.add",
        "handoff.record",  # Ivan captured nothing new: the answers stay as Sally left them
    ]
    # The Account 360 shows the Desired Outcome the handoff captured.
    a360 = console.client.get(f"/api/v1/accounts/{acme}", headers=team.headers["cleo"]).json()
    assert (
        a360["desired_outcome"]["status"]["required_outcome"]
        == "Halve onboarding time for new reps"
    )


@pytest.mark.parametrize(
    ("who", "status"), [("vic", 403), ("sam", 403), ("ivan", 403), ("max", 201)]
)
def test_who_may_record_a_handoff(console: Console, team: Team, who: str, status: int) -> None:
    """A viewer changes nothing; a CSM off the account (Sam) or not yet on its team (Ivan) may
    not; Cleo's manager may."""
    body = {
        "step": "sales_to_csm",
        "to_user_id": console.book.cleo.id,
        "desired_outcome": OUTCOME,
        "fit_answers": ANSWERS,
    }
    path = f"/api/v1/accounts/{console.book.acme.id}/handoffs"
    response = _post(console, team, who, path, body)
    assert response.status_code == status, response.text
    with console.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(AccountHandoff))
    assert count == (1 if status == 201 else 0)


def test_handoff_validation_names_the_field(console: Console, team: Team) -> None:
    path = f"/api/v1/accounts/{console.book.acme.id}/handoffs"
    bad = {
        "step": "sales_to_csm",
        "to_user_id": console.book.cleo.id,
        "fit_answers": {"technical_fit": 7},
    }
    response = _post(console, team, "sally", path, bad)
    assert response.status_code == 422 and "fit_answers.technical_fit" in response.json()["message"]
    to_viewer = {
        "step": "sales_to_csm",
        "to_user_id": console.book.vic.id,
        "desired_outcome": OUTCOME,
        "fit_answers": ANSWERS,
    }
    response = _post(console, team, "sally", path, to_viewer)
    assert response.status_code == 422
    assert response.json()["message"] == (
        f"to_user_id {console.book.vic.id}: no active non-viewer user with that id"
    )


def test_support_opens_a_rescue_cta_that_lands_in_the_owner_s_list(
    console: Console, team: Team
) -> None:
    acme = console.book.acme.id
    path = f"/api/v1/accounts/{acme}/rescue"
    first = _post(console, team, "sue", path, {"reason": "Three escalations this week"})
    assert first.status_code == 201, first.text
    cta = first.json()["cta"]
    assert first.json()["created"] is True
    assert (cta["owner_id"], cta["type"], cta["priority"]) == (console.book.cleo.id, "risk", "high")
    assert (
        cta["reason"]
        == "Rescue requested by Sue Support (support lead): Three escalations this week"
    )
    assert cta["steps"][0]["title"] == "Talk to whoever raised it: what did they see?"

    today = console.client.get("/api/v1/today", headers=team.headers["cleo"]).json()
    assert [c["id"] for c in today["ctas"]] == [cta["id"]]

    # Sales asks too while it is open: the same CTA, the request added to its history.
    second = _post(console, team, "sally", path, {"reason": "Champion stopped answering"})
    assert second.status_code == 201
    assert second.json()["created"] is False and second.json()["cta"]["id"] == cta["id"]
    with console.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Cta)) == 1
        events = session.execute(
            sa.select(CtaEvent.kind, CtaEvent.detail).where(CtaEvent.cta_id == cta["id"])
        ).all()
        decided = session.scalars(sa.select(RuleEvaluation.decision)).all()
        audits = session.scalars(
            sa.select(AuditLog.after).where(AuditLog.action == "cta.rescue_request")
        ).all()
    assert [kind for kind, _ in events] == ["created", "rescue_requested"]
    assert events[1][1]["reason"] == "Champion stopped answering"
    assert decided == ["created"]  # the playbooks' own record of the decision
    assert [(a["by"], a["created"]) for a in audits] == [
        ("sue@example.com", True),
        ("sally@example.com", False),
    ]


@pytest.mark.parametrize(
    ("who", "status"), [("vic", 403), ("sam", 403), ("ivan", 403), ("max", 201)]
)
def test_who_may_open_a_rescue_cta(console: Console, team: Team, who: str, status: int) -> None:
    """Off the account team a csm-role person (Sam, or Ivan before any handoff) may not; a
    viewer never; any manager may."""
    path = f"/api/v1/accounts/{console.book.acme.id}/rescue"
    response = _post(console, team, who, path, {"reason": "Usage halved"})
    assert response.status_code == status, response.text
    blank = _post(console, team, "sue", path, {"reason": "   "})
    assert blank.status_code == 422 and blank.json()["message"].startswith("reason:")


def test_alignment_page_records_a_handoff_and_a_rescue(console: Console, team: Team) -> None:
    acme = console.book.acme.id
    sign_in(console.client, "sally@example.com")
    page = console.client.get(f"/accounts/{acme}/alignment")
    assert page.status_code == 200
    assert "Sally Sales" in page.text and "No handoff recorded yet" in page.text
    assert f'href="/api/v1/accounts/{acme}/alignment"' in page.text  # the JSON twin
    token = csrf_of(page.text)
    form = {
        "csrf_token": token,
        "step": "sales_to_csm",
        "to_user_id": str(console.book.cleo.id),
        "required_outcome": "Cut churn of new reps",
        "target_field": "outcome.rep_churn",
        "target_op": "lt",
        "target_value": "0.1",
        "touch_model": "low_touch",
        "technical_fit": "3",
        "functional_fit": "5",
        "willing": "no",
        "note": "",
    }
    done = console.client.post(f"/accounts/{acme}/handoffs", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    rescue = {"csrf_token": token, "reason": "Budget freeze announced"}
    assert console.client.post(f"/accounts/{acme}/rescue", data=rescue).status_code == 200
    page = console.client.get(f"/accounts/{acme}/alignment").text
    assert "Cut churn of new reps" in page and "Budget freeze announced" in page
    # Who holds the customer in words, the sentence with its capital.
    assert '<span class="pill blue">CSM</span>' in page and ">csm<" not in page
    assert "Handed over from sales to the CSM on" in page
    with console.session() as session:
        row = session.scalars(sa.select(AccountHandoff)).one()
        outcome = session.get_one(DesiredOutcome, row.desired_outcome_id)
    assert outcome.target == {"field": "outcome.rep_churn", "op": "lt", "value": 0.1}
    assert row.fit_answers["willing"] is False and row.fit_answers["technical_fit"] == 3


def test_handing_off_to_a_csm_makes_them_the_owner(console: Console, team: Team) -> None:
    """The CSM who receives the customer owns it from the handoff day, the previous owner's
    span closed (per-CSM KPIs), so what follows the owner (a rescue CTA) goes to them."""
    from tenure.model import AccountOwnership

    with console.session() as session:
        sam = session.scalars(sa.select(User).where(User.email == "sam@example.com")).one()
    acme = console.book.acme.id
    body = {
        "step": "sales_to_csm",
        "to_user_id": sam.id,
        "on": "2025-03-01",
        "desired_outcome": OUTCOME,
        "fit_answers": ANSWERS,
    }
    done = _post(console, team, "max", f"/api/v1/accounts/{acme}/handoffs", body)
    assert done.status_code == 201, done.text
    with console.session() as session:
        account = session.get_one(Account, acme)
        assert account.owner_id == sam.id
        spans = session.scalars(
            sa.select(AccountOwnership).where(AccountOwnership.account_id == acme)
        ).all()
        (open_span,) = [s for s in spans if s.ended_at is None]
        assert open_span.user_id == sam.id
        # Cleo's span closed when Sam's began, never before it started.
        (closed,) = [s for s in spans if s.user_id == console.book.cleo.id]
        assert closed.ended_at is not None and closed.ended_at >= closed.started_at
    rescue = _post(
        console, team, "sue", f"/api/v1/accounts/{acme}/rescue", {"reason": "Outage complaints"}
    )
    assert rescue.status_code == 201, rescue.text
    assert rescue.json()["cta"]["owner_id"] == sam.id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # A sales user hands customers over; they never receive one.
        (
            {"step": "sales_to_csm", "to_user_id": "sally"},
            "to_user_id {sally}: Sally Sales is a sales user and hands customers over; the "
            "handoff from sales to the CSM goes to the CSM",
        ),
        # Services takes the implementation from sales, but does not stand in for the CSM.
        (
            {"step": "sales_to_csm", "to_user_id": "ivan"},
            "to_user_id {ivan}: Ivan Implementation is a services user and hands customers "
            "over; the handoff from sales to the CSM goes to the CSM",
        ),
        # The handoff from sales is given by sales, not by services.
        (
            {"step": "sales_to_services", "to_user_id": "ivan", "from_user_id": "ivan"},
            "from_user_id {ivan}: Ivan Implementation is a services user; the handoff from "
            "sales to services is given by a sales user",
        ),
    ],
)
def test_sales_and_services_users_hand_customers_over(
    console: Console, team: Team, body: dict[str, str], message: str
) -> None:
    ids = {"sally": team.sally.id, "ivan": team.ivan.id}
    sent = {k: ids.get(v, v) for k, v in body.items()}
    sent |= {"desired_outcome": OUTCOME, "fit_answers": ANSWERS}
    path = f"/api/v1/accounts/{console.book.acme.id}/handoffs"
    response = _post(console, team, "max", path, sent)
    assert response.status_code == 422, response.text
    assert response.json()["message"] == message.format(**ids)
    # Sally (sales, the account executive) hands Acme to Ivan (services) as the page offers.
    done = _post(
        console,
        team,
        "max",
        path,
        {**sent, "step": "sales_to_services", "to_user_id": team.ivan.id, "from_user_id": None},
    )
    assert done.status_code == 201, done.text
    assert (done.json()["from_user_name"], done.json()["to_user_name"]) == (
        "Sally Sales",
        "Ivan Implementation",
    )
