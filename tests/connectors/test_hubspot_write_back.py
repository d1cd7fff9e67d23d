"""Write-back to HubSpot (faked on HTTPS loopback, through hubspot-api-client) after a sync, on
SQLite and PostgreSQL: health score, churn risk and the CSM to the company properties an admin
named, only what changed (batch update); a closed CTA as one completed task on its company; a
company deleted in HubSpot refused with HubSpot's reason; a property the portal lacks fails
the companies, not the tasks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth.permissions import system_actor
from tenure.connectors import write_back as wb
from tenure.model import Account, CtaOutcome, CtaStatus, SyncRun, User
from tenure.store.database import session_scope
from tests import factories as f
from tests.connectors.fake_hubspot import FakeHubSpot
from tests.connectors.hubspot_portal import ACME, EUROPE, GLOBEX, HOOLI, MAYA, OMAR
from tests.connectors.syncing import SECRET, sync
from tests.connectors.test_hubspot_sync import connect
from tests.connectors.test_write_back import daily_write_back

TODAY = date(2026, 12, 6)
PROPERTIES = {"tenure_health_score", "tenure_churn_risk"}


def turn_on(factory: sessionmaker[Session], **changes: object) -> None:
    options = {
        "health_score_field": "tenure_health_score",
        "churn_risk_field": "tenure_churn_risk",
        "csm_field": "hubspot_owner_id",
        "closed_ctas_as_tasks": True,
        **changes,
    }
    with session_scope(factory) as session:
        wb.set_write_back(
            session,
            system_actor(session, "tester"),
            wb.options_from(**options),  # type: ignore[arg-type]
            "hubspot",
        )


def account(session: Session, external_id: str) -> Account:
    found = session.scalar(sa.select(Account).where(Account.external_id == external_id))
    assert found is not None
    return found


@pytest.fixture
def synced(factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path) -> None:
    """The portal synced; Acme red (38) at 62 % churn risk, Hooli green (80) at 5 %; Acme's CTA,
    Maya's, closed with its outcome."""
    fake_hubspot.portal.properties["companies"] |= PROPERTIES
    connect(factory, fake_hubspot)
    sync(factory, data_dir)
    with session_scope(factory) as session:
        acme, hooli = account(session, ACME), account(session, HOOLI)
        f.health_score(session, acme, as_of=TODAY, score=38)
        f.health_score(session, hooli, as_of=TODAY, score=80)
        f.churn_risk_score(session, acme, as_of=TODAY, probability=0.6234)
        f.churn_risk_score(session, hooli, as_of=TODAY, probability=0.05)
        maya = session.scalar(sa.select(User).where(User.external_id == MAYA))
        cta = f.cta(session, acme, owner=maya, title="Champion left", today=TODAY)
        cta.status, cta.closed_on = CtaStatus.closed, TODAY
        cta.outcome, cta.outcome_note = CtaOutcome.success, "Met the new VP; plan agreed"


def properties(fake: FakeHubSpot, company: str) -> dict[str, str | None]:
    return fake.portal.records["companies"][company]["properties"]


def test_writes_changed_properties_and_each_closed_cta_once(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, synced: None
) -> None:
    assert wb.write_back(factory, SECRET, TODAY) is None  # off until an admin turns it on
    turn_on(factory)
    first = wb.write_back(factory, SECRET, TODAY)
    # All four companies carry their owner; Acme and Hooli their scores too. HubSpot keeps
    # every value as a string.
    assert first == {"accounts_written": 4, "tasks_created": 1, "refused": 0, "failed": 0}
    acme = properties(fake_hubspot, ACME)
    assert (acme["tenure_health_score"], acme["tenure_churn_risk"]) == ("38", "62.3")
    assert acme["hubspot_owner_id"] == MAYA
    assert properties(fake_hubspot, HOOLI)["hubspot_owner_id"] == OMAR  # he left: still his
    assert "tenure_health_score" not in properties(fake_hubspot, GLOBEX)
    updates = [c for c in fake_hubspot.calls if c.endswith("/companies/batch/update")]
    assert updates == ["POST /crm/v3/objects/companies/batch/update"]  # one batch of four
    (task,) = fake_hubspot.portal.tasks.values()
    assert task["properties"] == {
        "hs_timestamp": "2026-12-06T12:00:00Z",
        "hs_task_subject": "Tenure CTA: Champion left",
        "hs_task_body": "Outcome: success\nWhy it was opened: nps_category = detractor\n"
        "Note: Met the new VP; plan agreed",
        "hs_task_status": "COMPLETED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
        "hubspot_owner_id": MAYA,
    }
    assert task["associations"] == [
        {
            "to": {"id": ACME},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}],
        }
    ]
    # Nothing changed: nothing is written again.
    assert wb.write_back(factory, SECRET, TODAY) == {
        "accounts_written": 0,
        "tasks_created": 0,
        "refused": 0,
        "failed": 0,
    }
    # A company deleted in HubSpot is refused with HubSpot's reason; the others are written.
    later = date(2026, 12, 7)
    with session_scope(factory) as session:
        f.health_score(session, account(session, ACME), as_of=later, score=41)
        f.health_score(session, account(session, EUROPE), as_of=later, score=55)
    fake_hubspot.portal.delete("companies", EUROPE)
    result = wb.write_back(factory, SECRET, later)
    assert result == {"accounts_written": 1, "tasks_created": 0, "refused": 1, "failed": 0}
    assert properties(fake_hubspot, ACME)["tenure_health_score"] == "41"
    with session_scope(factory) as session:
        run = session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.status == "partial"
        assert run.objects["Company write-back"]["rejects"] == [
            f"Company {EUROPE}: Could not get some COMPANY objects, they may be deleted or not "
            "exist. Check that ids are valid."
        ]


def test_a_property_the_portal_lacks_fails_the_companies_not_the_tasks(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, synced: None
) -> None:
    turn_on(factory, churn_risk_field="churn_score")
    result = wb.write_back(factory, SECRET, TODAY)
    assert result == {"accounts_written": 0, "tasks_created": 1, "refused": 0, "failed": 1}
    with session_scope(factory) as session:
        run = session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.status == "partial"
        error = run.objects["Company write-back"]["error"]
    assert error.startswith(
        "HubSpotRefused: HubSpot answered 400: Property values were not valid: "
    )
    assert 'Property \\"churn_score\\" does not exist' in error


def test_the_daily_run_writes_back_to_hubspot_last(
    factory: sessionmaker[Session],
    fake_hubspot: FakeHubSpot,
    synced: None,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    turn_on(factory, csm_field=None, closed_ctas_as_tasks=False)
    assert daily_write_back(database_url, monkeypatch)["accounts_written"] == 2
    assert properties(fake_hubspot, ACME)["tenure_health_score"] == "38"


def task_rejects(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as session:
        run = session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        return list(run.objects["Task write-back"]["rejects"])


def test_a_task_whose_answer_was_lost_is_made_once(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, synced: None
) -> None:
    """HubSpot made the task, then its gateway answered 502. Sending the create again would make
    a second task: it is sent once, and the next write-back finds the task (same subject and
    time, on Acme) instead of making another."""
    turn_on(factory, health_score_field=None, churn_risk_field=None, csm_field=None)
    fake_hubspot.lost_answers.append(("POST /crm/v3/objects/tasks", 502))
    first = wb.write_back(factory, SECRET, TODAY)
    assert first == {"accounts_written": 0, "tasks_created": 0, "refused": 1, "failed": 0}
    assert len(fake_hubspot.portal.tasks) == 1
    assert fake_hubspot.calls.count("POST /crm/v3/objects/tasks") == 1
    assert task_rejects(factory) == [
        "CTA 'Champion left': HubSpot answered 502: internal error (HubSpot may have made the "
        "task all the same: the next write-back looks for it before making it again)"
    ]
    fake_hubspot.calls.clear()
    again = wb.write_back(factory, SECRET, TODAY)
    assert again == {"accounts_written": 0, "tasks_created": 0, "refused": 0, "failed": 0}
    (task_id,) = fake_hubspot.portal.tasks
    assert fake_hubspot.calls == [
        "POST /crm/v3/objects/tasks/search",
        f"GET /crm/v3/objects/tasks/{task_id}",
    ]
    fake_hubspot.calls.clear()
    assert wb.write_back(factory, SECRET, TODAY) == again  # known now: not looked for again
    assert fake_hubspot.calls == []


def test_a_task_refused_by_a_5xx_before_it_was_made_is_made_on_the_next_run(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, synced: None
) -> None:
    turn_on(factory, health_score_field=None, churn_risk_field=None, csm_field=None)
    fake_hubspot.faults.append(("/crm/v3/objects/tasks", 503, None))
    assert wb.write_back(factory, SECRET, TODAY)["tasks_created"] == 0
    assert fake_hubspot.portal.tasks == {}
    assert wb.write_back(factory, SECRET, TODAY)["tasks_created"] == 1  # looked for, then made
    assert len(fake_hubspot.portal.tasks) == 1
