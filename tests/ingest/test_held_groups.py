"""A product's groupId is its workspace id, not the CRM's account id (issue 17): events and group
calls naming it are held — stored, reported, counted for no account, creating none — until the
id is linked to the account, which then gets its members and every stored event.

Payload shapes follow Segment's group spec (https://segment.com/docs/connections/spec/group/:
``groupId`` with ``traits`` name/industry/employees/plan/website) and track calls carrying the
account in ``context.groupId`` (the spec's common fields); the ids are MongoDB ObjectIds as in
RudderStack's sample group payload.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import accounts_by_group_id, group_ids_of
from tenure.auth.permissions import Actor, system_actor
from tenure.config import Settings
from tenure.errors import Conflict, Forbidden
from tenure.ingest.held_groups import held_groups, link_group_id, open_account_for_group_id
from tenure.ingest.segment import read_payload
from tenure.ingest.segment_identities import apply_identities
from tenure.metrics.compute import attributed_activity
from tenure.metrics.snapshot import load_snapshot
from tenure.model import Account, Contact, IdentitySystem, SourceIdentity, UserRole
from tenure.portfolio.records import account_events
from tenure.store.events import EventStore, open_event_store
from tests import factories
from tests.ingest.helpers import run_import

RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ACME_CRM = "0015e00000ABCdEAAX"  # the Salesforce Account Id the CRM import stored
ACME_WORKSPACE = "5e8a78ba9d32d3b1898a6247"  # what the product sends as groupId
GLOBEX_WORKSPACE = "5e8a78ba9d32d3b1898a6248"  # a workspace no account is linked to


@pytest.fixture
def store(data_dir: Path, database_url: str) -> EventStore:
    return open_event_store(Settings(data_dir=data_dir, database_url=database_url))


def group(user: str, workspace: str, **traits: Any) -> dict[str, Any]:
    return {
        "type": "group",
        "messageId": f"g-{user}-{workspace}-{len(traits)}",
        "userId": user,
        "groupId": workspace,
        "traits": traits,
        "timestamp": "2026-11-20T09:00:00Z",
    }


def track(n: int, user: str, workspace: str, day: int = 21) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"t-{user}-{n}",
        "userId": user,
        "event": "report_exported",
        "context": {"groupId": workspace, "library": {"name": "analytics-node"}},
        "timestamp": f"2026-11-{day:02d}T10:{n:02d}:00Z",
    }


def send(session: Session, store: EventStore, *messages: dict[str, Any]) -> None:
    """What POST /v1/batch does with a batch: events stored, identity calls applied."""
    plan = read_payload({"batch": list(messages)}, "batch", source="web", received_at=RECEIVED)
    assert plan.quarantined == []
    if plan.events:
        store.append(plan.events)
    apply_identities(session, plan.identities, source="web", received_at=RECEIVED)


def events_per_account(session: Session, store: EventStore) -> dict[str, int]:
    """Usage events each account is credited with when metrics are computed."""
    con = ibis.duckdb.connect()
    snapshot = load_snapshot(session, con)
    events_con = store.connect()
    try:
        events = store.table(events_con).to_pyarrow()
    finally:
        events_con.disconnect()
    activity = attributed_activity(
        con.create_table("held_events", events, overwrite=True), snapshot, date(2026, 11, 30)
    )
    totals = activity.group_by("account_id").aggregate(n=activity.events.sum()).to_pyarrow()
    names = {id_: name for id_, name in session.execute(sa.select(Account.id, Account.name))}
    return {names[row["account_id"]]: row["n"] for row in totals.to_pylist()}


@pytest.fixture
def acme(session: Session) -> Account:
    account = factories.account(session, external_id=ACME_CRM, name="Acme Corp")
    # the domain its Salesforce Website gave (salesforce-accounts' identities.domain)
    session.add(
        SourceIdentity(
            entity="account",
            system=IdentitySystem.domain,
            value="acme.example",
            account_id=account.id,
        )
    )
    session.flush()
    return account


def test_a_workspace_id_is_held_then_linked_and_its_events_follow(
    session: Session, store: EventStore, acme: Account
) -> None:
    send(
        session,
        store,
        group("u-ann", ACME_WORKSPACE, name="Acme", website="https://www.acme.example", plan="pro"),
        *(track(n, "u-ann", ACME_WORKSPACE) for n in range(3)),
        group("u-zed", GLOBEX_WORKSPACE, name="Globex"),
        *(track(n, "u-zed", GLOBEX_WORKSPACE) for n in range(2)),
    )
    # No second "Acme" beside the CRM's, and the traits left the CRM's record alone.
    assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 1
    assert (acme.name, acme.custom) == ("Acme Corp", {})
    ann = session.scalars(sa.select(Contact).where(Contact.external_id == "u-ann")).one()
    assert ann.account_id is None
    assert events_per_account(session, store) == {}

    held = held_groups(session, store)
    assert (held.held_ids, held.held_events, held.attributed_events) == (2, 5, 0)
    first, second = held.groups
    assert (first.group_id, first.name, first.events, first.users) == (ACME_WORKSPACE, "Acme", 3, 1)
    assert first.likely_account is not None and first.likely_account.id == acme.id
    assert first.likely_because == "its website is on acme.example"
    assert (second.group_id, second.name, second.likely_account) == (
        GLOBEX_WORKSPACE,
        "Globex",
        None,
    )

    admin = system_actor(session, "ops")
    link = link_group_id(session, store, ACME_CRM, ACME_WORKSPACE, admin)
    assert (link.account.id, link.members_joined, link.events) == (acme.id, 1, 3)
    session.refresh(ann)
    assert ann.account_id == acme.id
    # Every stored event now counts for Acme; the unlinked workspace's stay held.
    assert events_per_account(session, store) == {"Acme Corp": 3}
    held = held_groups(session, store)
    assert (held.held_ids, held.held_events, held.attributed_events) == (1, 2, 3)
    assert group_ids_of(session, acme.id) == [ACME_CRM, ACME_WORKSPACE]
    page = account_events(
        store, group_ids_of(session, acme.id), date(2026, 11, 1), date(2026, 11, 30), limit=10
    )
    assert len(page.items) == 3

    # Later calls naming the workspace reach Acme directly: traits and membership.
    send(
        session,
        store,
        group("u-bo", ACME_WORKSPACE, plan="enterprise"),
        track(9, "u-bo", ACME_WORKSPACE, day=22),
    )
    session.refresh(acme)
    assert acme.custom == {"plan": "enterprise"}
    bo = session.scalars(sa.select(Contact).where(Contact.external_id == "u-bo")).one()
    assert bo.account_id == acme.id
    assert events_per_account(session, store) == {"Acme Corp": 4}


def test_linking_is_for_admins_and_an_id_names_one_account(
    session: Session, store: EventStore, acme: Account
) -> None:
    globex = factories.account(session, external_id="0015e00000XYZ00AAA", name="Globex")
    admin = system_actor(session, "ops")
    csm = factories.user(session, email="cleo@example.com", role=UserRole.csm)

    with pytest.raises(Forbidden):
        link_group_id(session, store, ACME_CRM, ACME_WORKSPACE, Actor(csm, "api"))
    link_group_id(session, store, ACME_CRM, ACME_WORKSPACE, admin)
    with pytest.raises(Conflict, match="already names Acme Corp"):
        link_group_id(session, store, globex.external_id, ACME_WORKSPACE, admin)
    with pytest.raises(Conflict, match="already names Acme Corp"):
        link_group_id(session, store, ACME_CRM, ACME_WORKSPACE, admin)
    # An account's external id always names it, whatever identity another account has.
    assert accounts_by_group_id(session, [ACME_CRM, ACME_WORKSPACE, "nobody"]) == {
        ACME_CRM: acme.id,
        ACME_WORKSPACE: acme.id,
    }


def test_a_crm_import_naming_the_workspace_links_it_and_its_held_events_follow(
    session: Session, store: EventStore, acme: Account, tmp_path: Path
) -> None:
    """The org keeps the workspace id in a custom field of the Salesforce Account: re-importing
    the Data Loader extract with it (salesforce-accounts reads Product_Workspace_Id__c) links
    the held id, and the events stored before count for Acme."""
    send(session, store, *(track(n, "u-ann", ACME_WORKSPACE) for n in range(2)))
    assert held_groups(session, store).held_ids == 1
    extract = tmp_path / "Account.csv"
    extract.write_bytes(
        b'"Id","Name","ParentId","Industry","NumberOfEmployees","BillingCountry","OwnerId",'
        b'"Type","CreatedDate","AnnualRevenue","Product_Workspace_Id__c"\r\n'
        b'"0015e00000ABCdEAAX","Acme Corp","","Manufacturing","5.2E3","Germany","",'
        b'"Customer - Direct","2021-03-04T10:22:00.000+0000","",'
        + f'"{ACME_WORKSPACE}"\r\n'.encode()
    )
    report = run_import(session, "accounts", extract, "salesforce-accounts")
    assert (report.inserted, report.updated) == (0, 1)
    assert accounts_by_group_id(session, [ACME_WORKSPACE]) == {ACME_WORKSPACE: acme.id}
    assert held_groups(session, store).held_ids == 0
    assert events_per_account(session, store) == {"Acme Corp": 2}


def test_a_company_without_a_crm_makes_a_held_id_an_account_of_its_own(
    session: Session, store: EventStore
) -> None:
    """Customers that exist only in the product: no account to link to, so the held id
    becomes one, named as its group call says; its members, events and later traits follow."""
    send(
        session,
        store,
        group("u-zed", GLOBEX_WORKSPACE, name="Globex", website="https://globex.example"),
        *(track(n, "u-zed", GLOBEX_WORKSPACE) for n in range(2)),
    )
    admin = system_actor(session, "ops")
    csm = factories.user(session, email="cleo@example.com", role=UserRole.csm)
    with pytest.raises(Forbidden):
        open_account_for_group_id(session, store, GLOBEX_WORKSPACE, Actor(csm, "api"))

    opened = open_account_for_group_id(session, store, GLOBEX_WORKSPACE, admin)
    assert (opened.account.name, opened.account.external_id) == ("Globex", GLOBEX_WORKSPACE)
    assert (opened.members_joined, opened.events) == (1, 2)
    assert events_per_account(session, store) == {"Globex": 2}
    assert held_groups(session, store).held_ids == 0
    with pytest.raises(Conflict, match="already names Globex"):
        open_account_for_group_id(session, store, GLOBEX_WORKSPACE, admin)

    send(session, store, group("u-amy", GLOBEX_WORKSPACE, plan="pro"))
    globex = session.get_one(Account, opened.account.id)
    assert globex.custom == {"plan": "pro"}
    amy = session.scalars(sa.select(Contact).where(Contact.external_id == "u-amy")).one()
    assert amy.account_id == globex.id


def test_the_likely_accounts_of_many_held_ids_take_as_many_statements_as_one(
    session: Session, store: EventStore, acme: Account
) -> None:
    """Four held workspaces: Acme's website is on acme.example (Acme Corp's domain); 'globex'
    is named as Globex Corp is, in other case; 'Initech' names two accounts and 'umbrella.example'
    none, so neither has a likely account. Each group's likely account is found by one
    statement for every domain and one for every name (two per group were sent)."""
    factories.account(session, external_id="globex-crm", name="Globex Corp")
    for n in (1, 2):
        factories.account(session, external_id=f"initech-{n}", name="Initech")
    workspaces = [f"5e8a78ba9d32d3b1898a62{n:02d}" for n in range(50, 54)]
    send(
        session,
        store,
        group("u-a", workspaces[0], name="Acme", website="https://www.acme.example"),
        *(track(n, "u-a", workspaces[0]) for n in range(4)),
        group("u-g", workspaces[1], name="GLOBEX corp"),
        *(track(n, "u-g", workspaces[1]) for n in range(3)),
        group("u-i", workspaces[2], name="Initech"),
        *(track(n, "u-i", workspaces[2]) for n in range(2)),
        group("u-u", workspaces[3], name="Umbrella", website="umbrella.example"),
        track(0, "u-u", workspaces[3]),
    )
    statements: list[str] = []
    sa.event.listen(session.bind, "before_cursor_execute", lambda *a: statements.append(a[2]))
    one = held_groups(session, store, limit=1)
    first = len(statements)
    statements.clear()
    every = held_groups(session, store, limit=4)

    assert [
        (g.likely_account and g.likely_account.name, g.likely_because) for g in every.groups
    ] == [
        ("Acme Corp", "its website is on acme.example"),
        ("Globex Corp", "it is named GLOBEX corp"),
        (None, None),
        (None, None),
    ]
    assert one.groups == every.groups[:1]
    assert len(statements) == first
