"""Every success change behaves the same from every surface, on SQLite and PostgreSQL.

The command line, /api/v1 and the console call one service function with an actor, so each
gives the same result, refuses a viewer with the same message and writes the same audit entry —
only ``via`` (cli, api, web) and who acted differ. The command line acts as an admin named after
the OS account (it holds the database), so its viewer refusal is checked on the service function
it calls, with a viewer actor.
"""

from __future__ import annotations

import getpass
import html
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.auth.permissions import Actor
from tenure.auth.service import find_user
from tenure.cli.main import app
from tenure.errors import Forbidden
from tenure.model import (
    AuditLog,
    ChurnRecord,
    DesiredOutcome,
    MaturityAssessment,
    Milestone,
    SuccessPlan,
    User,
)
from tenure.success import (
    churn_classification_service,
    maturity_service,
    milestones_service,
    outcome_service,
)
from tenure.success.churn_classification import CauseSide
from tenure.success.maturity import Pillar, Stage
from tenure.success.milestones import load_milestone_config
from tenure.success.outcome import DesiredOutcomeVersion
from tenure.success.schemas import ChurnConfirm, MaturityAnswers
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

SURFACES = ["cli", "api", "web"]
CLI_EMAIL = f"{getpass.getuser()}@cli.local"
REVIEW = "Budget cut after the merger"
OUTCOME_TEXT = "Halve onboarding time for new reps"
# The pillars the data cannot pre-fill: the team states them.
TEAM_STAGES = {"playbooks": "expanding", "community": "emerging", "alignment": "emerging"}


def run_cli(console: Console, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.resolved_database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(console.settings.data_dir))
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def post_api(console: Console, email: str, path: str, body: dict[str, Any]) -> Any:
    with console.session() as session:
        user = find_user(session, email)
        assert user is not None
        headers = token_headers(session, user)
        session.commit()
    return console.client.post(path, json=body, headers=headers)


def post_web(console: Console, email: str, page: str, path: str, form: dict[str, str]) -> Any:
    """Sign in, take the CSRF token from the page that holds the form, post it."""
    sign_in(console.client, email)
    token = csrf_of(console.client.get(page).text)
    return console.client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)


def audit_entries(console: Console, action: str) -> list[tuple[str, str | None, str, str]]:
    """(entity, entity id, via, actor's email) of every entry for ``action``."""
    with console.session() as session:
        rows = session.execute(
            sa.select(AuditLog.entity, AuditLog.entity_id, AuditLog.via, User.email)
            .join(User, User.id == AuditLog.actor_id)
            .where(AuditLog.action == action)
            .order_by(AuditLog.id)
        ).all()
    return [(entity, entity_id, via, email) for entity, entity_id, via, email in rows]


def viewer(console: Console) -> Actor:
    """Vic (a viewer) as the command line would pass him, were he the one running it."""
    with console.session() as session:
        user = find_user(session, "vic@example.com")
        assert user is not None
        return Actor(user, "cli")


def refusal(console: Console, surface: str, api: Any, web: Any, service: Any) -> str:
    """The viewer's refusal from one surface, as the message a person reads."""
    if surface == "api":
        response = api()
        assert response.status_code == 403
        return str(response.json()["message"])
    if surface == "web":
        response = web()
        assert response.status_code == 403
        return html.unescape(response.text)  # the error page shows the message
    with console.session() as session, pytest.raises(Forbidden) as refused:
        service(session)
    return refused.value.message


# --- confirming a churn class -------------------------------------------------------------------


def hooli_record(console: Console) -> int:
    with console.session() as session:
        return session.scalars(
            sa.select(ChurnRecord.id).where(ChurnRecord.account_id == console.book.hooli.id)
        ).one()


@pytest.mark.parametrize("surface", SURFACES)
def test_confirming_a_churn_class(
    console: Console, monkeypatch: pytest.MonkeyPatch, surface: str
) -> None:
    record_id = hooli_record(console)
    if surface == "cli":
        run_cli(console, monkeypatch, "churn", "confirm", "hooli", "--cause", "customer_change")
        run_cli(console, monkeypatch, "churn", "confirm", "hooli", "--foreseen", "--review", REVIEW)
    elif surface == "api":
        body = {"cause_side": "customer_change", "foreseen": True, "review": REVIEW}
        path = f"/api/v1/churn-review/{record_id}/confirm"
        assert post_api(console, "sam@example.com", path, body).status_code == 200
    else:
        form = {
            "cause_side": "customer_change",
            "foreseen": "yes",
            "avoidable": "",
            "review": REVIEW,
        }
        path = f"/churn-review/{record_id}/confirm"
        done = post_web(console, "sam@example.com", "/churn-review", path, form)
        assert done.status_code == 303
    with console.session() as session:
        record = session.get_one(ChurnRecord, record_id)
        # Foreseen and a good fit at signing → foreseen_good_fit; low adoption is not one of
        # the customer-change reasons nobody could avoid, so it stays avoidable.
        assert (record.confirmed, record.churn_class, record.cause_side, record.avoidable) == (
            True,
            "foreseen_good_fit",
            "customer_change",
            True,
        )
        assert record.root_cause_review == REVIEW
        assert record.suggestion["churn_class"] == "unforeseen_good_fit"  # the suggestion stays
    who = CLI_EMAIL if surface == "cli" else "sam@example.com"
    # The command line confirmed in two steps (cause, then foresight): one entry each.
    expected = [("churn_record", str(record_id), surface, who)] * (2 if surface == "cli" else 1)
    assert audit_entries(console, "churn_record.confirm") == expected


@pytest.mark.parametrize("surface", SURFACES)
def test_a_viewer_may_not_confirm_a_churn_class(console: Console, surface: str) -> None:
    record_id = hooli_record(console)
    message = refusal(
        console,
        surface,
        api=lambda: post_api(
            console,
            "vic@example.com",
            f"/api/v1/churn-review/{record_id}/confirm",
            {"cause_side": "customer_change"},
        ),
        web=lambda: post_web(
            console,
            "vic@example.com",
            "/churn-review",
            f"/churn-review/{record_id}/confirm",
            {"cause_side": "customer_change"},
        ),
        service=lambda session: churn_classification_service.confirm_churn(
            session, viewer(console), record_id, ChurnConfirm(cause_side=CauseSide.customer_change)
        ),
    )
    assert "vic@example.com (viewer) may not change 'Hooli'" in message
    with console.session() as session:
        assert session.get_one(ChurnRecord, record_id).confirmed is False
    assert audit_entries(console, "churn_record.confirm") == []


# --- assessing CS maturity ----------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
def test_assessing_maturity(
    console: Console, monkeypatch: pytest.MonkeyPatch, surface: str
) -> None:
    today = console.book.today
    if surface == "cli":
        stages = [f"--stage={p}={s}" for p, s in TEAM_STAGES.items()]
        run_cli(
            console,
            monkeypatch,
            "maturity",
            "assess",
            *stages,
            "--note",
            "Q4",
            "--as-of",
            str(today),
        )
    elif surface == "api":
        body = {"answers": TEAM_STAGES, "note": "Q4"}
        assert post_api(console, "max@example.com", "/api/v1/maturity", body).status_code == 201
    else:
        form = {**{f"stage_{p}": s for p, s in TEAM_STAGES.items()}, "note": "Q4"}
        done = post_web(console, "max@example.com", "/maturity", "/maturity", form)
        assert done.status_code == 303
    with console.session() as session:
        [saved] = session.scalars(sa.select(MaturityAssessment)).all()
        assert (saved.assessed_on, saved.note) == (today, "Q4")
        assert (saved.pillars["playbooks"]["stage"], saved.pillars["playbooks"]["source"]) == (
            "expanding",
            "team",
        )
        assert saved.pillars["roi"]["source"] == "data"  # pre-filled the same way everywhere
    who = CLI_EMAIL if surface == "cli" else "max@example.com"
    expected = [("maturity_assessment", today.isoformat(), surface, who)]
    assert audit_entries(console, "maturity.assess") == expected


@pytest.mark.parametrize("surface", SURFACES)
def test_a_viewer_may_not_assess_maturity(console: Console, surface: str) -> None:
    answers = {Pillar.playbooks: Stage.expanding}
    message = refusal(
        console,
        surface,
        api=lambda: post_api(
            console, "vic@example.com", "/api/v1/maturity", {"answers": {"playbooks": "expanding"}}
        ),
        web=lambda: post_web(
            console, "vic@example.com", "/maturity", "/maturity", {"stage_playbooks": "expanding"}
        ),
        service=lambda session: maturity_service.assess_maturity(
            session, viewer(console), console.book.today, MaturityAnswers(answers=answers)
        ),
    )
    assert "this needs the role admin, manager; vic@example.com is viewer" in message
    with console.session() as session:
        assert session.scalars(sa.select(MaturityAssessment)).all() == []
    assert audit_entries(console, "maturity.assess") == []


# --- setting a Desired Outcome (the console and /api/v1 set it in a handoff) ---------------------


def handoff_form(console: Console) -> dict[str, str]:
    return {
        "step": "sales_to_csm",
        "to_user_id": str(console.book.cleo.id),
        "required_outcome": OUTCOME_TEXT,
        "target_field": "outcome.onboarding_days",
        "target_op": "lte",
        "target_value": "14",
        "touch_model": "high_touch",
        "technical_fit": "4",
        "functional_fit": "3",
        "note": "",
    }


def handoff_body(console: Console) -> dict[str, Any]:
    return {
        "step": "sales_to_csm",
        "to_user_id": console.book.cleo.id,
        "desired_outcome": {
            "required_outcome": {
                "text": OUTCOME_TEXT,
                "target": {"field": "outcome.onboarding_days", "op": "lte", "value": 14},
            },
            "appropriate_experience": {"touch_model": "high_touch"},
        },
        "fit_answers": {"technical_fit": 4, "functional_fit": 3},
    }


@pytest.mark.parametrize("surface", SURFACES)
def test_setting_a_desired_outcome(
    console: Console, monkeypatch: pytest.MonkeyPatch, surface: str
) -> None:
    acme = console.book.acme.id
    if surface == "cli":
        target = ["--metric", "outcome.onboarding_days", "--op", "lte", "--target", "14"]
        run_cli(
            console,
            monkeypatch,
            *["outcome", "set", "acme", "--required", OUTCOME_TEXT, *target],
            *["--experience", "high_touch"],
        )
    elif surface == "api":
        path = f"/api/v1/accounts/{acme}/handoffs"
        response = post_api(console, "cleo@example.com", path, handoff_body(console))
        assert response.status_code == 201, response.text
    else:
        page, path = f"/accounts/{acme}/alignment", f"/accounts/{acme}/handoffs"
        done = post_web(console, "cleo@example.com", page, path, handoff_form(console))
        assert done.status_code == 303, done.text
    who = CLI_EMAIL if surface == "cli" else "cleo@example.com"
    with console.session() as session:
        [row] = session.scalars(sa.select(DesiredOutcome)).all()
        author = session.get_one(User, row.author_id)
        assert (row.account_id, row.version, row.required_outcome, row.touch_model) == (
            acme,
            1,
            OUTCOME_TEXT,
            "high_touch",
        )
        assert row.target == {"field": "outcome.onboarding_days", "op": "lte", "value": 14}
        assert author.email == who
    expected = [("desired_outcome", str(row.id), surface, who)]
    assert audit_entries(console, "desired_outcome.create") == expected


@pytest.mark.parametrize("surface", SURFACES)
def test_a_viewer_may_not_set_a_desired_outcome(console: Console, surface: str) -> None:
    acme = console.book.acme.id
    version = DesiredOutcomeVersion.model_validate(
        {**handoff_body(console)["desired_outcome"], "effective_from": console.book.today}
    )
    message = refusal(
        console,
        surface,
        api=lambda: post_api(
            console, "vic@example.com", f"/api/v1/accounts/{acme}/handoffs", handoff_body(console)
        ),
        web=lambda: post_web(
            console,
            "vic@example.com",
            f"/accounts/{acme}/alignment",
            f"/accounts/{acme}/handoffs",
            handoff_form(console),
        ),
        service=lambda session: outcome_service.set_desired_outcome(
            session, viewer(console), "acme", version
        ),
    )
    assert "vic@example.com (viewer) may not change 'Acme'" in message
    with console.session() as session:
        assert session.scalars(sa.select(DesiredOutcome)).all() == []
    assert audit_entries(console, "desired_outcome.create") == []


# --- success plans and milestones (only the command line changes them today) ---------------------


def test_plans_and_milestones_from_the_command_line_are_audited(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = console.book.today
    assert "1 success plan(s) created" in run_cli(
        console, monkeypatch, "milestones", "plan", "acme"
    )
    run_cli(console, monkeypatch, "milestones", "mark", "acme", "first_value", "--on", str(today))
    with console.session() as session:
        plan = session.scalars(sa.select(SuccessPlan)).one()
        milestone = session.scalars(
            sa.select(Milestone).where(Milestone.key == "first_value")
        ).one()
        assert (milestone.reached_on, milestone.reached_by) == (today, "hand")
        [(before, after)] = session.execute(
            sa.select(AuditLog.before, AuditLog.after).where(AuditLog.action == "milestone.reach")
        ).all()
    assert audit_entries(console, "success_plan.create") == [
        ("success_plan", str(plan.id), "cli", CLI_EMAIL)
    ]
    assert audit_entries(console, "milestone.reach") == [
        ("milestone", str(milestone.id), "cli", CLI_EMAIL)
    ]
    assert (before["reached_on"], after["reached_on"]) == (None, today.isoformat())


def test_a_viewer_may_not_create_plans_or_mark_milestones(console: Console) -> None:
    with console.session() as session, pytest.raises(Forbidden, match=r"\(viewer\) may not"):
        milestones_service.create_plans(session, viewer(console), load_milestone_config(), ["acme"])
    with console.session() as session:
        assert session.scalars(sa.select(SuccessPlan)).all() == []
    # With a plan in place (made by Cleo, its owner), Vic still may not mark it.
    with console.session() as session:
        cleo = session.get_one(User, console.book.cleo.id)
        milestones_service.create_plans(
            session, Actor(cleo, "api"), load_milestone_config(), ["acme"]
        )
        session.commit()
    with console.session() as session, pytest.raises(Forbidden, match=r"\(viewer\) may not"):
        milestones_service.mark_milestone(
            session, viewer(console), "acme", "first_value", console.book.today
        )
    assert audit_entries(console, "milestone.reach") == []
