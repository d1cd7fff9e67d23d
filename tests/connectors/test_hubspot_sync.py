"""HubSpot sync against the fake on loopback, through hubspot-api-client, on SQLite and
PostgreSQL: first sync (owners, companies, contacts, deals with their primary company), search
pages, an idempotent re-run, incremental changes, an archived record, 429 then success, a
property the portal lacks, a search past its result cap, a bad token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.accounts.opportunities import list_opportunities
from tenure.connectors import hubspot
from tenure.model import Account, Connection, Contact, Opportunity, OpportunityStatus, User
from tenure.store.database import session_scope
from tests.connectors.fake_hubspot import FakeHubSpot
from tests.connectors.hubspot_portal import ACME, EUROPE, HOOLI, MAYA, OMAR
from tests.connectors.syncing import connect_vendor, counts, sync


def connect(factory: sessionmaker[Session], fake: FakeHubSpot, **options: object) -> None:
    connect_vendor(
        factory, "hubspot", {"access_token": fake.portal.access_token}, fake.url, **options
    )


def test_first_sync_then_nothing_changes(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    connect(factory, fake_hubspot)
    first = sync(factory, data_dir)
    assert counts(first) == {
        "owners": (2, 2, 0, 0, 0),
        "companies": (4, 4, 0, 0, 0),
        "contacts": (4, 4, 0, 0, 0),
        # the deal without a company is refused, with the reason
        "deals": (3, 2, 0, 0, 1),
    }, first
    assert first.status == "partial"
    (refused,) = first.objects["deals"].rejects
    # in plain words: the deal by its name and id, the field as HubSpot users say it
    assert refused == 'Deal "Unassigned inbound" (18273645117): no company'

    # two companies to a page, then the archived list
    assert first.objects["companies"].batches == 3
    with session_scope(factory) as session:
        owners = {u.external_id: u for u in session.scalars(sa.select(User))}
        assert owners[MAYA].is_active and not owners[OMAR].is_active
        accounts = {a.external_id: a for a in session.scalars(sa.select(Account))}
        assert accounts[EUROPE].parent_id == accounts[ACME].id
        assert accounts[HOOLI].owner_id == owners[OMAR].id  # he left; it needs a new owner
        assert accounts[ACME].custom["lifecycle_stage"] == "customer"
        assert "hs_num_blockers" not in str(accounts[ACME].custom)  # read by no mapping
        ana = session.scalar(sa.select(Contact).where(Contact.external_id == "701"))
        assert ana is not None and sorted(ana.roles) == ["champion", "commercial_buyer"]
        deal = session.scalar(
            sa.select(Opportunity).where(Opportunity.external_id == "18273645091")
        )
        # linked to Acme Europe and Acme, Acme primary: the deal is Acme's
        assert deal is not None and deal.account_id == accounts[ACME].id
        assert (deal.amount, deal.probability) == (24000, 90)
    again = sync(factory, data_dir)
    assert all(o.inserted == 0 and o.updated == 0 for o in again.objects.values()), again
    # the boundary millisecond is read again: the search starts at the newest time stored
    newest = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # every record's time in the portal
    filters = fake_hubspot.searches[-1]["filterGroups"][0]["filters"]
    assert filters == [
        {
            "propertyName": "hs_lastmodifieddate",
            "operator": "GTE",
            "value": str(int(newest.timestamp() * 1000)),
        }
    ]


def test_incremental_change_archive_and_rate_limit(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    connect(factory, fake_hubspot)
    sync(factory, data_dir)
    portal = fake_hubspot.portal
    portal.put("companies", HOOLI, {"name": "Hooli XYZ", "hubspot_owner_id": MAYA})
    portal.delete("contacts", "704")
    fake_hubspot.faults.append(("/crm/v3/objects/companies/search", 429, "1"))
    run = sync(factory, data_dir)
    assert run.status == "partial"  # the company-less deal is refused again
    assert counts(run)["companies"][2] == 1  # Hooli changed, after the 429 was retried
    assert run.objects["contacts"].deleted == 1
    assert run.objects["contacts"].updated == 0
    with session_scope(factory) as session:
        hooli = session.scalar(sa.select(Account).where(Account.external_id == HOOLI))
        maya = session.scalar(sa.select(User).where(User.external_id == MAYA))
        assert hooli is not None and maya is not None
        assert (hooli.name, hooli.owner_id) == ("Hooli XYZ", maya.id)
        dee = session.scalar(sa.select(Contact).where(Contact.external_id == "704"))
        assert dee is not None and dee.left_on is not None  # kept, marked as gone
    # the modified-since filter: only Hooli and the records at the old boundary come back
    company_searches = [s for s in fake_hubspot.searches if "hubspot_owner_id" in s["properties"]]
    assert "filterGroups" in company_searches[-1]


def test_a_deal_deleted_in_hubspot_is_kept_marked_and_leaves_the_pipeline(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    connect(factory, fake_hubspot)
    sync(factory, data_dir)
    portal = fake_hubspot.portal
    deal_id = "18273645091"  # Acme's open deal (contract sent, 24,000)
    portal.delete("deals", deal_id, at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC))
    run = sync(factory, data_dir)
    assert run.objects["deals"].deleted == 1
    assert sync(factory, data_dir).objects["deals"].deleted == 0  # read again: nothing changes
    with session_scope(factory) as session:
        deal = session.scalar(sa.select(Opportunity).where(Opportunity.external_id == deal_id))
        assert deal is not None and deal.amount == 24000  # kept with its history
        assert deal.deleted_in_crm_on == datetime(2026, 11, 20).date()
        assert deal.status == OpportunityStatus.open  # not won or lost: it was deleted
        pipeline = list_opportunities(session, status=OpportunityStatus.open)
        assert deal_id not in [o.external_id for o in pipeline]
        (listed,) = [
            o
            for o in list_opportunities(session, account_id=deal.account_id)
            if o.external_id == deal_id
        ]
        assert listed.deleted_in_crm_on == deal.deleted_in_crm_on
    # HubSpot restores a deleted deal for 90 days: listed by the search again, it is live again
    portal.records["deals"][deal_id] = portal.archived["deals"].pop(deal_id)
    portal.put("deals", deal_id, {}, at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    sync(factory, data_dir)
    with session_scope(factory) as session:
        deal = session.scalar(sa.select(Opportunity).where(Opportunity.external_id == deal_id))
        assert deal is not None and deal.deleted_in_crm_on is None
        pipeline = list_opportunities(session, status=OpportunityStatus.open)
        assert deal_id in [o.external_id for o in pipeline]


def test_a_deal_restored_without_a_new_modification_time_is_live_again(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    """No search lists a deal whose restore left hs_lastmodifieddate as it was: the archived
    list no longer holds it and HubSpot reads it as live, so it is live again. One purged for
    good is neither: it stays marked deleted."""
    portal = fake_hubspot.portal
    acme_deal, other = "18273645091", sorted(set(portal.records["deals"]) - {"18273645091"})[0]
    for deal_id in (acme_deal, other):  # older than the others: the next searches start after
        portal.put("deals", deal_id, {}, at=datetime(2026, 10, 30, tzinfo=UTC))
    connect(factory, fake_hubspot)
    sync(factory, data_dir)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for deal_id in (acme_deal, other):
        portal.delete("deals", deal_id, at=yesterday)
    assert sync(factory, data_dir).objects["deals"].deleted == 2
    portal.restore("deals", acme_deal)
    portal.purge("deals", other)
    sync(factory, data_dir)
    with session_scope(factory) as session:
        query = sa.select(Opportunity.external_id, Opportunity.deleted_in_crm_on)
        marked = {key: on for key, on in session.execute(query)}
    assert marked[acme_deal] is None
    assert marked[other] == yesterday.date()


def test_a_subsidiary_read_before_its_parent_is_stored_after_the_last_page(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    # Acme modified last: the first page holds its subsidiary, refused for want of its parent,
    # and the cursor moves past it; once every page is read it is stored after all.
    fake_hubspot.portal.put("companies", ACME, {}, at=portal_time(0))
    connect(factory, fake_hubspot, objects=["owners", "companies"])
    run = sync(factory, data_dir)
    assert run.status == "succeeded", run
    companies = run.objects["companies"]
    assert (companies.read, companies.inserted, companies.rejected) == (4, 4, 0)
    assert companies.batches == 4  # two pages, the archived list, the refused once more
    with session_scope(factory) as session:
        accounts = {a.external_id: a for a in session.scalars(sa.select(Account))}
        assert accounts[EUROPE].parent_id == accounts[ACME].id


def test_a_search_past_its_cap_starts_again_from_the_newest_time(
    factory: sessionmaker[Session],
    fake_hubspot: FakeHubSpot,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portal = fake_hubspot.portal
    for kind in ("companies", "contacts"):
        for offset, record_id in enumerate(sorted(portal.records[kind])):
            portal.put(kind, record_id, {}, at=portal_time(offset))
    # HubSpot's cap is 10,000 results; here the fake refuses any page after the first
    monkeypatch.setattr(hubspot, "SEARCH_WINDOW", 4)
    fake_hubspot.window = 2
    connect(factory, fake_hubspot, objects=["owners", "companies", "contacts"])
    run = sync(factory, data_dir)
    assert run.status == "succeeded", run
    assert counts(run)["contacts"][:2] == (4 + 2, 4)  # the restarts read 703 and 704 again
    contact_searches = [s for s in fake_hubspot.searches if "jobtitle" in s["properties"]]
    restarts = [s["filterGroups"][0]["filters"][0]["value"] for s in contact_searches[1:]]
    assert restarts == [str(int(portal_time(n).timestamp() * 1000)) for n in (1, 2)]


def portal_time(offset: int) -> datetime:
    return datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=offset)


def test_a_property_the_portal_lacks_fails_that_object_only(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    fake_hubspot.portal.properties["contacts"].discard("jobtitle")
    # salesforceaccountid is optional: a portal without the Salesforce integration lacks it
    fake_hubspot.portal.properties["companies"].discard("salesforceaccountid")
    connect(factory, fake_hubspot, objects=["owners", "companies", "contacts"])
    run = sync(factory, data_dir)
    assert run.status == "partial"
    assert run.objects["contacts"].error == (
        "HubSpotRefused: HubSpot contacts have no property 'jobtitle', from which Tenure reads "
        "each contact's title: create it in HubSpot (Settings, Properties) and sync again"
    )
    assert counts(run)["companies"][:2] == (4, 4)


def test_a_wrong_token_is_said_plainly_and_never_stored_in_clear(
    factory: sessionmaker[Session], fake_hubspot: FakeHubSpot, data_dir: Path
) -> None:
    token = fake_hubspot.portal.access_token
    connect(factory, fake_hubspot)
    with session_scope(factory) as session:
        stored = session.scalar(sa.select(Connection.credentials))
        assert stored and token not in stored
    fake_hubspot.portal.access_token = "pat-na1-rotated"
    run = sync(factory, data_dir)
    assert run.status == "failed"
    assert run.objects["owners"].error == (
        "HubSpotRefused: HubSpot answered 401: Authentication credentials not found. This API "
        "supports OAuth 2.0 authentication and you can find more details at "
        "https://developers.hubspot.com/docs/methods/auth/oauth-overview (the private app's "
        "access token is wrong or was rotated: connect hubspot again)"
    )
