"""Write-back to Salesforce (faked on HTTPS loopback) after a sync, on SQLite and PostgreSQL:
health score, churn risk and the CSM to the fields an admin named, only what changed; a closed
CTA as one completed Task; a field the org lacks refused per record with Salesforce's reason;
off unless turned on; the daily run's last step."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth.permissions import system_actor
from tenure.connectors import write_back as wb
from tenure.errors import InvalidInput
from tenure.model import Account, CtaOutcome, CtaStatus, SyncRun
from tenure.store.database import session_scope
from tests import factories as f
from tests.connectors.fake_salesforce import FakeSalesforce
from tests.connectors.salesforce_org import OWNER
from tests.connectors.test_salesforce_sync import SECRET, connect, sync

TODAY = date(2026, 12, 6)
ACME, GLOBEX = "0015e00000Acm1AAAR", "0015e00000Glx3CAAR"
FIELDS = {"Tenure_Health__c", "Tenure_Churn_Risk__c", "CSM__c"}
TASK = {"WhatId", "Subject", "Status", "Priority", "ActivityDate", "Description", "OwnerId"}


def turn_on(factory: sessionmaker[Session], **changes: object) -> None:
    options = {
        "health_score_field": "Tenure_Health__c",
        "churn_risk_field": "Tenure_Churn_Risk__c",
        "csm_field": "CSM__c",
        "closed_ctas_as_tasks": True,
        **changes,
    }
    with session_scope(factory) as session:
        wb.set_write_back(session, system_actor(session, "tester"), wb.options_from(**options))  # type: ignore[arg-type]


def account(session: Session, external_id: str) -> Account:
    found = session.scalar(sa.select(Account).where(Account.external_id == external_id))
    assert found is not None
    return found


@pytest.fixture
def synced(factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, data_dir: Path) -> None:
    """The org synced; Acme red (38) at 62 % churn risk, Globex green (80) at 5 %; Acme's CTA
    closed with its outcome."""
    fake_salesforce.org.writable = {"Account": FIELDS, "Task": TASK}
    connect(factory, fake_salesforce)
    assert sync(factory, data_dir).status == "succeeded"
    with session_scope(factory) as session:
        acme, globex = account(session, ACME), account(session, GLOBEX)
        f.health_score(session, acme, as_of=TODAY, score=38)
        f.health_score(session, globex, as_of=TODAY, score=80)
        f.churn_risk_score(session, acme, as_of=TODAY, probability=0.6234)
        f.churn_risk_score(session, globex, as_of=TODAY, probability=0.05)
        cta = f.cta(session, acme, owner=None, title="Champion left", today=TODAY)
        cta.status, cta.closed_on = CtaStatus.closed, TODAY
        cta.outcome, cta.outcome_note = CtaOutcome.success, "Met the new VP; plan agreed"


def test_writes_changed_values_and_each_closed_cta_once(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, synced: None
) -> None:
    assert wb.write_back(factory, SECRET, TODAY) is None  # off until an admin turns it on
    turn_on(factory)
    first = wb.write_back(factory, SECRET, TODAY)
    # All four accounts carry their CSM (Maya's Salesforce user id); two have scores too.
    assert first == {"accounts_written": 4, "tasks_created": 1, "refused": 0, "failed": 0}
    accounts = fake_salesforce.org.records["Account"]
    assert accounts[ACME]["Tenure_Health__c"] == 38
    assert accounts[ACME]["Tenure_Churn_Risk__c"] == 62.3
    assert accounts[ACME]["CSM__c"] == OWNER
    assert accounts[GLOBEX]["Tenure_Health__c"] == 80
    assert "Tenure_Health__c" not in accounts["0015e00000Ini4DAAR"]
    (task,) = fake_salesforce.org.records["Task"].values()
    assert task["WhatId"] == ACME and task["Status"] == "Completed"
    assert task["Subject"] == "Tenure CTA: Champion left"
    assert task["Description"] == (
        "Outcome: success\nWhy it was opened: nps_category = detractor\n"
        "Note: Met the new VP; plan agreed"
    )
    # Nothing changed: nothing is written again.
    assert wb.write_back(factory, SECRET, TODAY) == {
        "accounts_written": 0,
        "tasks_created": 0,
        "refused": 0,
        "failed": 0,
    }
    with session_scope(factory) as session:
        f.health_score(session, account(session, ACME), as_of=date(2026, 12, 7), score=41)
    later = wb.write_back(factory, SECRET, date(2026, 12, 7))
    assert later is not None and later["accounts_written"] == 1
    assert accounts[ACME]["Tenure_Health__c"] == 41
    with session_scope(factory) as session:
        runs = session.scalars(sa.select(SyncRun).order_by(SyncRun.id)).all()
        assert runs[-1].objects["Account write-back"]["updated"] == 1


def test_a_field_the_org_lacks_is_refused_with_the_reason(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, synced: None
) -> None:
    turn_on(factory, churn_risk_field="Churn_Score__c", closed_ctas_as_tasks=False)
    result = wb.write_back(factory, SECRET, TODAY)
    # Acme and Globex carry a churn risk and are refused; the two without scores are written.
    assert result == {"accounts_written": 2, "tasks_created": 0, "refused": 2, "failed": 0}
    with session_scope(factory) as session:
        run = session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.status == "partial"
        assert run.objects["Account write-back"]["rejects"][0] == (
            f"Account {ACME}: INVALID_FIELD: No such column 'Churn_Score__c' on sobject of type "
            "Account"
        )
    with pytest.raises(InvalidInput, match=r"is not a field.s API name"):
        wb.options_from(
            health_score_field="Health score",
            churn_risk_field=None,
            csm_field=None,
            closed_ctas_as_tasks=False,
        )


def test_the_daily_run_writes_back_last(
    factory: sessionmaker[Session],
    fake_salesforce: FakeSalesforce,
    synced: None,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    turn_on(factory, csm_field=None, closed_ctas_as_tasks=False)
    assert daily_write_back(database_url, monkeypatch)["accounts_written"] == 2
    assert fake_salesforce.org.records["Account"][ACME]["Tenure_Health__c"] == 38


def daily_write_back(database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Run the day (the org or portal already synced); the write-back step's counts, checked to
    be the run's last step and without error."""
    from tenure.jobs.daily import run_daily
    from tenure.playbooks.config import PlaybookSettings
    from tenure.playbooks.rules import load_ruleset
    from tenure.store.database import create_engine

    monkeypatch.setenv("TENURE_SECRET_KEY", SECRET)
    engine = create_engine(database_url)
    try:
        result = run_daily(
            engine, TODAY, load_ruleset(None), PlaybookSettings(sync_before_daily=False)
        )
    finally:
        engine.dispose()
    steps = {step["name"]: step for step in result.step_results}
    assert list(steps)[-1] == "write_back" and steps["write_back"]["error"] is None
    return steps["write_back"]["counts"]


def test_a_task_whose_answer_was_lost_is_looked_for_before_it_is_made_again(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, synced: None
) -> None:
    """Salesforce made the Task, then the answer was lost (a 502): the next write-back finds it
    by its account, subject and date instead of making a second one."""
    turn_on(factory, health_score_field=None, churn_risk_field=None, csm_field=None)
    fake_salesforce.lost_answers.append(("POST /services/data/v60.0/composite/sobjects", 502))
    first = wb.write_back(factory, SECRET, TODAY)
    assert first == {"accounts_written": 0, "tasks_created": 0, "refused": 1, "failed": 0}
    assert len(fake_salesforce.org.records["Task"]) == 1
    again = wb.write_back(factory, SECRET, TODAY)
    assert again == {"accounts_written": 0, "tasks_created": 0, "refused": 0, "failed": 0}
    assert len(fake_salesforce.org.records["Task"]) == 1
    assert fake_salesforce.calls[-1] == "GET /services/data/v60.0/query/"  # the SOQL look-up
