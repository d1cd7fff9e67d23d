"""A product's groupId is its workspace id, not the CRM's account id (issue 17): events and group
calls naming it are held — stored, reported, counted for no account, creating none — until the
id is linked to the account, which then gets its members and every stored event.

Payload shapes follow Segment's group spec (https://segment.com/docs/connections/spec/group/:
``groupId`` with ``traits`` name/industry/employees/plan/website) and track calls carrying the
account in ``context.groupId`` (the spec's common fields); the ids are MongoDB ObjectIds as in
RudderStack's sample group payload.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import accounts_by_group_id, group_ids_of
from tenure.auth.permissions import Actor, system_actor
from tenure.config import Settings
from tenure.errors import Conflict, Forbidden
from tenure.ingest.held_groups import (
    HeldGroups,
    held_groups,
    held_report,
    link_group_id,
    open_account_for_group_id,
)
from tenure.ingest.segment import read_payload
from tenure.ingest.segment_identities import apply_identities
from tenure.metrics.compute import attributed_activity
from tenure.metrics.snapshot import load_snapshot
from tenure.model import Account, Contact, IdentitySystem, SourceIdentity, UserRole
from tenure.portfolio.records import account_events
from tenure.store.events import EventStore, open_event_store
from tenure.store.events.erasure import PersonErasure
from tenure.store.events.schema import USAGE_TYPES, events_table_from_rows
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


# --- The summary of the compacted events, kept per process (issue 19) -----------------------
# The page and /api/v1/events/held cost ~150 ms of CPU, most of it compiling the same queries and
# registering the same Parquet files on every request. Kept, the summary must answer as the full
# read did whatever happened since: a new held event, an id linked, a compaction, a bulk write,
# an erasure. The oracle is the aggregation before it was kept (main 397cb5f), on DuckDB over
# Parquet, PostgreSQL and Spark.

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WS_QUIET = "ws-quiet"  # only a group call, no usage


def old_held_groups(session: Session, store: EventStore, limit: int = 50) -> HeldGroups:
    """``held_groups`` as it was before the compacted events' summary was kept (main 397cb5f):
    every message read and aggregated by the engine on each call, each shown id's traits read
    from its group calls in time order."""
    con = store.connect()
    try:
        messages = store.messages(con)
        named = messages.filter(messages.account_id.notnull())
        usage = named.type.isin(USAGE_TYPES)
        per_id = (
            named.group_by("account_id")
            .aggregate(
                events=usage.ifelse(1, 0).sum(),
                users=named.user_id.nunique(),
                first_seen=named.timestamp.min(),
                last_seen=named.timestamp.max(),
            )
            .to_pyarrow()
            .to_pylist()
        )
        # Spark answered UTC times without their zone; the kept summary gives them with it, as
        # DuckDB and PostgreSQL always did.
        for row in per_id:
            for moment in ("first_seen", "last_seen"):
                row[moment] = row[moment].replace(tzinfo=row[moment].tzinfo or UTC)
        return held_report(
            session,
            pa.Table.from_pylist(per_id),
            lambda id_: _old_latest_traits(messages, [id_]).get(id_, {}),
            limit,
        )
    finally:
        con.disconnect()


def _old_latest_traits(messages: ibis.Table, group_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not group_ids:
        return {}
    calls = messages.filter(messages.type == "group", messages.account_id.isin(group_ids))
    rows = calls.select("account_id", "timestamp", "properties").order_by("timestamp")
    latest: dict[str, dict[str, Any]] = {}
    for row in rows.to_pyarrow().to_pylist():
        try:
            traits = json.loads(row["properties"] or "{}")
        except ValueError:
            continue
        if isinstance(traits, dict):
            latest[row["account_id"]] = {**latest.get(row["account_id"], {}), **traits}
    return latest


def message(
    n: int,
    group_id: str | None,
    user: str | None,
    *,
    kind: str = "track",
    minutes: int = 0,
    properties: str | None = None,
) -> dict[str, Any]:
    at = DAY + timedelta(days=n % 5, minutes=minutes + n)
    return {
        "message_id": f"m-{n}-{kind}-{group_id}-{user}-{minutes}",
        "source": "product",
        "type": kind,
        "account_id": group_id,
        "user_id": user,
        "event": "report_exported" if kind == "track" else "",
        "timestamp": at,
        "received_at": at,
        "properties": properties,
    }


def said(**traits: Any) -> str:
    return json.dumps(traits)


# What the product sent first: three workspaces no account carries, one the CRM's own id.
FIRST = [
    message(
        0,
        ACME_WORKSPACE,
        "u-ann",
        kind="group",
        properties=said(name="Acme", website="acme.example"),
    ),
    *(message(n, ACME_WORKSPACE, "u-ann") for n in range(1, 5)),
    message(5, ACME_WORKSPACE, None, kind="page"),  # anonymous: an event, not a user
    message(6, GLOBEX_WORKSPACE, "u-zed", kind="group", properties="{not json"),
    message(7, GLOBEX_WORKSPACE, "u-zed", kind="group", properties="[1, 2]"),
    message(8, GLOBEX_WORKSPACE, "u-zed", kind="group", properties=said(name=" Globex ")),
    *(message(n, GLOBEX_WORKSPACE, "u-zed", kind="screen") for n in range(9, 12)),
    message(12, WS_QUIET, "u-q", kind="group", properties=said(name="Quiet", plan="pro")),
    *(message(n, ACME_CRM, "u-crm") for n in range(13, 16)),
    message(16, None, "u-ann", kind="identify", properties=said(email="ann@acme.example")),
]
# Later: Acme's website taken back, one of Ann's earlier users again, a new user, a new id.
LATER = [
    message(20, ACME_WORKSPACE, "u-ann", kind="group", minutes=600, properties=said(website=None)),
    message(21, ACME_WORKSPACE, "u-ann", minutes=600),
    message(22, ACME_WORKSPACE, "u-bo", minutes=600),
    message(23, "ws-new", "u-new", minutes=600),
]


def same_as_before(session: Session, store: EventStore, limit: int = 50) -> HeldGroups:
    """What the held groups say now, checked against the oracle."""
    now = held_groups(session, store, limit=limit)
    assert now.model_dump_json() == old_held_groups(session, store, limit).model_dump_json()
    return now


def counts(report: HeldGroups) -> dict[str, tuple[int, int]]:
    return {g.group_id: (g.events, g.users) for g in report.groups}


def the_store_lives_through(session: Session, store: EventStore, acme: Account) -> None:
    """Every change the held groups must follow, each compared with the full read."""
    store.append(FIRST)
    first = same_as_before(session, store)  # all in the inbox
    assert counts(first) == {ACME_WORKSPACE: (5, 1), GLOBEX_WORKSPACE: (3, 1), WS_QUIET: (0, 1)}
    assert (first.groups[0].name, first.groups[0].website) == ("Acme", "acme.example")
    assert first.groups[0].likely_account is not None
    assert (first.groups[1].name, first.attributed_events) == ("Globex", 3)
    store.compact(now=NOW)
    assert same_as_before(session, store) == first  # all in Parquet: nothing lost or doubled
    same_as_before(session, store, limit=1)
    store.append(LATER)  # in the inbox, beside the compacted events
    later = same_as_before(session, store)
    assert counts(later) == {
        ACME_WORKSPACE: (7, 2),
        GLOBEX_WORKSPACE: (3, 1),
        WS_QUIET: (0, 1),
        "ws-new": (1, 1),
    }
    assert (later.groups[0].name, later.groups[0].website) == ("Acme", None)
    store.compact(now=NOW)
    assert same_as_before(session, store) == later
    store.write_parquet(events_table_from_rows([message(30, WS_QUIET, "u-q2", minutes=900)]))
    assert counts(same_as_before(session, store))[WS_QUIET] == (1, 2)
    link_group_id(session, store, ACME_CRM, ACME_WORKSPACE, system_actor(session, "ops"))
    linked = same_as_before(session, store)
    assert ACME_WORKSPACE not in counts(linked)
    assert (linked.held_ids, linked.attributed_events) == (3, 3 + 7)


def test_the_held_groups_answer_as_the_full_read_did_through_every_change(
    session: Session, store: EventStore, acme: Account
) -> None:
    the_store_lives_through(session, store, acme)


@pytest.mark.spark
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_held_groups_answer_as_the_full_read_did_on_spark(
    session: Session, data_dir: Path, acme: Account, spark: Any
) -> None:
    store = open_event_store(Settings(data_dir=data_dir, events_engine="spark"))
    the_store_lives_through(session, store, acme)


def test_a_new_held_event_shows_at_once(session: Session, store: EventStore) -> None:
    store.append(FIRST)
    store.compact(now=NOW)
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (5, 1)
    store.append([message(40, ACME_WORKSPACE, "u-cy", minutes=700)])
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (6, 2)
    store.compact(now=NOW)
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (6, 2)
    store.append([message(41, "ws-brand-new", "u-dee", minutes=700)])
    assert counts(held_groups(session, store))["ws-brand-new"] == (1, 1)


def test_a_linked_id_leaves_the_held_groups_at_once(
    session: Session, store: EventStore, acme: Account
) -> None:
    store.append(FIRST)
    store.compact(now=NOW)
    assert held_groups(session, store).held_ids == 3
    link_group_id(session, store, ACME_CRM, GLOBEX_WORKSPACE, system_actor(session, "ops"))
    after = held_groups(session, store)
    assert (after.held_ids, after.held_events, after.attributed_events) == (2, 5, 3 + 3)


def test_a_compaction_neither_loses_nor_doubles_what_was_kept(
    session: Session, store: EventStore
) -> None:
    store.append(FIRST)
    store.compact(now=NOW)
    kept = held_groups(session, store)  # the compacted events' summary is kept from here
    store.append(LATER)
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (7, 2)
    store.compact(now=NOW)  # LATER leaves the inbox for Parquet
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (7, 2)
    assert held_groups(session, store).held_events == kept.held_events + 3


def test_an_erasure_rewriting_the_files_is_followed(session: Session, store: EventStore) -> None:
    """Ann used two ids; erased, both become one token: one user where there were two."""
    store.append([*FIRST, message(50, ACME_WORKSPACE, "u-ann-old", minutes=5)])
    store.compact(now=NOW)
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (6, 2)
    store.erase(
        PersonErasure(
            ids=frozenset({"u-ann", "u-ann-old"}),
            emails=frozenset(),
            names=frozenset(),
            token="erased-0001",
        )
    )
    assert counts(held_groups(session, store))[ACME_WORKSPACE] == (6, 1)


def test_a_second_look_reads_no_compacted_event_again(
    session: Session, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded: the compacted events are summarised once per version of their files, and a
    compaction's new files are summarised alone. PostgreSQL reads its table on every call
    (EventStore.summarise)."""
    store.append(FIRST)
    store.compact(now=NOW)  # FIRST's five days: five files
    connections: list[object] = []
    read: list[int] = []  # how many Parquet files each summary read
    connect: Callable[[], Any] = store.storage.connect
    monkeypatch.setattr(store.storage, "connect", lambda: connections.append(1) or connect())
    if not store.is_postgres:
        table = store.storage.compacted_table
        monkeypatch.setattr(
            store.storage,
            "compacted_table",
            lambda con, files: read.append(len(files)) or table(con, files),
        )
    first = held_groups(session, store)
    store.append(LATER)  # the inbox is read afresh, without a connection
    later = held_groups(session, store)
    assert later != first
    assert held_groups(session, store, limit=1).groups == later.groups[:1]
    assert len(connections) == (3 if store.is_postgres else 1)
    store.compact(now=NOW)  # LATER's four days: four new files
    assert held_groups(session, store) == later
    assert read == ([] if store.is_postgres else [5, 4])
