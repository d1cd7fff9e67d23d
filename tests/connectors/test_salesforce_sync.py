"""Salesforce sync against the fake on loopback, through simple-salesforce, on SQLite and
PostgreSQL: first sync, idempotent re-run, incremental changes, pages, 429, token expiry,
deletions, a field the org lacks, and the same records as a Data Loader file import."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth.permissions import system_actor
from tenure.connectors import service
from tenure.connectors.schemas import SyncRunRead
from tenure.model import Account, AuditLog, Connection, Contact
from tenure.store.database import session_scope
from tests.connectors.fake_salesforce import FakeSalesforce

SECRET = "k" * 48


def connect(factory: sessionmaker[Session], fake: FakeSalesforce, **kwargs: object) -> None:
    org = fake.org
    with session_scope(factory) as session:
        service.connect(
            session,
            system_actor(session, "tester"),
            SECRET,
            "salesforce",
            secrets={
                "client_id": org.client_id,
                "client_secret": org.client_secret,
                "refresh_token": org.refresh_token,
            },
            base_url=fake.url,
            **kwargs,  # type: ignore[arg-type]
        )


def sync(factory: sessionmaker[Session], data_dir: Path) -> SyncRunRead:
    (run,) = service.sync_all(factory, SECRET, data_dir)
    return run


def counts(run: SyncRunRead) -> dict[str, tuple[int, int, int, int]]:
    return {n: (o.read, o.inserted, o.updated, o.unchanged) for n, o in run.objects.items()}


def test_first_sync_then_nothing_changes(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, data_dir: Path
) -> None:
    connect(factory, fake_salesforce)
    first = sync(factory, data_dir)
    assert first.status == "succeeded", first
    # 4 accounts and 4 contacts, two to a page
    assert counts(first) == {
        "User": (1, 1, 0, 0),
        "Account": (4, 4, 0, 0),
        "Contact": (4, 4, 0, 0),
    }
    assert first.objects["Account"].batches == 3  # two pages, then the deletions' window
    assert first.api_usage["daily_api_requests_limit"] == 15_000
    with session_scope(factory) as session:
        europe = session.scalar(sa.select(Account).where(Account.name == "Acme Europe"))
        assert europe is not None and europe.parent_id is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 4
    again = sync(factory, data_dir)
    # the boundary second is read again (>= the newest stamp) and changes nothing
    assert again.status == "succeeded"
    assert all(o.inserted == 0 and o.updated == 0 for o in again.objects.values())


def test_incremental_change_and_deletion(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, data_dir: Path
) -> None:
    connect(factory, fake_salesforce)
    sync(factory, data_dir)
    org = fake_salesforce.org
    time.sleep(1.05)  # the delete log and SOQL literals count whole seconds
    org.put("Account", {"Id": "0015e00000Glx3CAAR", "Name": "Globex Group"})
    org.delete("Contact", "0035e00000Con4DAAR")
    time.sleep(1.05)
    run = sync(factory, data_dir)
    assert run.objects["Account"].updated == 1
    assert run.objects["Contact"].deleted == 1
    with session_scope(factory) as session:
        globex = session.scalar(
            sa.select(Account).where(Account.external_id == "0015e00000Glx3CAAR")
        )
        assert globex is not None and globex.name == "Globex Group"
        dee = session.scalar(sa.select(Contact).where(Contact.external_id == "0035e00000Con4DAAR"))
        assert dee is not None and dee.left_on is not None  # kept, marked as gone


def test_rate_limit_and_expired_token(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, data_dir: Path
) -> None:
    connect(factory, fake_salesforce)
    fake_salesforce.faults.append(("/services/data/v60.0/query", 429, "1"))
    run = sync(factory, data_dir)
    assert run.status == "succeeded" and counts(run)["Account"][1] == 4
    refreshes = fake_salesforce.refreshes
    fake_salesforce.expire_tokens()
    fake_salesforce.org.put("Contact", {"Id": "0035e00000Con2BAAR", "Title": "Director"})
    run = sync(factory, data_dir)
    assert run.status == "succeeded" and run.objects["Contact"].updated == 1
    assert fake_salesforce.refreshes == refreshes + 1  # one new token, then on


def test_a_field_the_org_lacks_fails_that_object_only(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce, data_dir: Path
) -> None:
    fake_salesforce.org.fields["Account"].discard("AnnualRevenue")
    connect(factory, fake_salesforce, objects=["Account", "Contact"])
    run = sync(factory, data_dir)
    assert run.status == "partial"
    assert "No such column 'AnnualRevenue' on entity 'Account'" in (
        run.objects["Account"].error or ""
    )
    # contacts of unknown accounts are refused with the reason, the rest of the object syncs
    contact = run.objects["Contact"]
    assert (contact.read, contact.inserted, contact.rejected) == (4, 0, 4)
    assert contact.rejects[0] == (
        'Contact "Ana Ruiz" (0035e00000Con1AAAR): its account 0015e00000Acm1AAAR is not in '
        "Tenure (not synced yet, or refused)"
    )


def test_credentials_are_sealed_and_never_audited(
    factory: sessionmaker[Session], fake_salesforce: FakeSalesforce
) -> None:
    connect(factory, fake_salesforce)
    secret = fake_salesforce.org.client_secret
    with session_scope(factory) as session:
        stored = session.scalar(sa.select(Connection.credentials))
        audited = [str(e.after) for e in session.scalars(sa.select(AuditLog))]
        assert stored and secret not in stored and fake_salesforce.org.refresh_token not in stored
        assert audited and not any(secret in text for text in audited)
        assert service.credentials_of(session, SECRET, "salesforce")["client_secret"] == secret
