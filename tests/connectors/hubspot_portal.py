"""A small HubSpot portal as its CRM API returns it, and the same portal as files to import.

Why each record exists: Maya owns two companies, Omar (archived: he left) still owns Hooli, so
his accounts need a new owner; Acme Europe is Acme's subsidiary (hs_parent_company_id); Hooli
has no employee count (a null); the companies carry a property no mapping reads (hs_num_blockers)
and Acme a Salesforce Account ID (an optional column); Ana is Acme's champion and budget holder
(a multi-select), Bo has no title, Cy belongs to the subsidiary, Dee to Hooli. The expansion deal
is linked to two companies with the primary (Acme) second in HubSpot's list; the renewal is won;
the new-business deal has no company (refused: the mapping needs one).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.connectors.fake_hubspot import FakePortal

MAYA, OMAR = "51234567", "51239999"
ACME, EUROPE, GLOBEX, HOOLI = "9410581203", "9410581204", "9410581299", "9410581300"

COMPANIES = {
    ACME: {
        "name": "Acme Corporation",
        "domain": "acme.example",
        "industry": "MACHINERY",
        "numberofemployees": "5200",
        "country": "United States",
        "hubspot_owner_id": MAYA,
        "lifecyclestage": "customer",
        "hs_parent_company_id": None,
        "salesforceaccountid": "0015e00000Acm1AAAR",
        "hs_num_blockers": "0",
        "createdate": "2019-06-03T08:15:00.000Z",
    },
    EUROPE: {
        "name": "Acme Europe",
        "domain": "acme-europe.example",
        "industry": "MACHINERY",
        "numberofemployees": "640",
        "country": "Germany",
        "hubspot_owner_id": MAYA,
        "lifecyclestage": "customer",
        "hs_parent_company_id": ACME,
        "salesforceaccountid": None,
        "hs_num_blockers": "1",
        "createdate": "2020-02-11T14:00:00.000Z",
    },
    GLOBEX: {
        "name": "Globex",
        "domain": "globex.example",
        "industry": "UTILITIES",
        "numberofemployees": "300",
        "country": "Canada",
        "hubspot_owner_id": MAYA,
        "lifecyclestage": "opportunity",
        "hs_parent_company_id": None,
        "salesforceaccountid": None,
        "hs_num_blockers": "0",
        "createdate": "2021-09-30T23:30:00.000Z",
    },
    HOOLI: {
        "name": "Hooli",
        "domain": "hooli.example",
        "industry": "COMPUTER_SOFTWARE",
        "numberofemployees": None,
        "country": "United States",
        "hubspot_owner_id": OMAR,
        "lifecyclestage": "evangelist",
        "hs_parent_company_id": None,
        "salesforceaccountid": None,
        "hs_num_blockers": "2",
        "createdate": "2022-03-01T10:00:00.000Z",
    },
}

CONTACTS = {
    "701": {
        "firstname": "Ana",
        "lastname": "Ruiz",
        "email": "ana.ruiz@acme.example",
        "jobtitle": "VP Operations",
        "associatedcompanyid": ACME,
        "hs_buying_role": "CHAMPION;BUDGET_HOLDER",
        "phone": "+1 555 0101",
        "hs_email_optout": "false",
    },
    "702": {
        "firstname": "Bo",
        "lastname": "Chen",
        "email": "bo.chen@acme.example",
        "jobtitle": None,
        "associatedcompanyid": ACME,
        "hs_buying_role": None,
        "phone": None,
        "hs_email_optout": "true",
    },
    "703": {
        "firstname": "Cy",
        "lastname": "Diaz",
        "email": "cy.diaz@acme-europe.example",
        "jobtitle": "CS Lead",
        "associatedcompanyid": EUROPE,
        "hs_buying_role": "END_USER",
        "phone": None,
        "hs_email_optout": "false",
    },
    "704": {
        "firstname": "Dee",
        "lastname": "Eng",
        "email": "dee@hooli.example",
        "jobtitle": "CTO",
        "associatedcompanyid": HOOLI,
        "hs_buying_role": "EXECUTIVE_SPONSOR",
        "phone": None,
        "hs_email_optout": "false",
    },
}

DEAL_PROPERTIES = {
    "closed_lost_reason": None,
    "closed_won_reason": None,
    "description": None,
    "deal_currency_code": "USD",
}
DEALS = {
    "18273645091": {
        **DEAL_PROPERTIES,
        "dealname": "Acme – add 80 seats",
        "amount": "24000",
        "closedate": "2027-01-31T17:00:00Z",
        "createdate": "2026-09-12T08:41:07.419Z",
        "dealstage": "contractsent",
        "dealtype": "existingbusiness",
        "hs_deal_stage_probability": "0.9",
        "hs_is_closed": "false",
        "hs_is_closed_won": "false",
        "hs_manual_forecast_category": "COMMIT",
    },
    "18273645102": {
        **DEAL_PROPERTIES,
        "dealname": "Hooli renewal 2027",
        "amount": "60000",
        "deal_currency_code": "EUR",
        "closedate": "2026-11-30T17:00:00Z",
        "createdate": "2026-08-02T13:15:44.002Z",
        "dealstage": "closedwon",
        "dealtype": "renewal",
        "hs_deal_stage_probability": "1",
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_manual_forecast_category": "CLOSED",
        "closed_won_reason": "Signed the three-year term.",
    },
    "18273645117": {
        **DEAL_PROPERTIES,
        "dealname": "Unassigned inbound",
        "amount": "5000",
        "closedate": "2027-03-31T17:00:00Z",
        "createdate": "2026-11-20T10:00:00.000Z",
        "dealstage": "appointmentscheduled",
        "dealtype": "newbusiness",
        "hs_deal_stage_probability": "0.2",
        "hs_is_closed": "false",
        "hs_is_closed_won": "false",
        "hs_manual_forecast_category": "PIPELINE",
    },
}
DEAL_COMPANIES = {
    "18273645091": [(EUROPE, False), (ACME, True)],
    "18273645102": [(HOOLI, True)],
}

COMPANY_COLUMNS = [
    "hs_object_id",
    "name",
    "hs_parent_company_id",
    "industry",
    "numberofemployees",
    "country",
    "domain",
    "hubspot_owner_id",
    "lifecyclestage",
    "createdate",
    "salesforceaccountid",
]
CONTACT_COLUMNS = [
    "hs_object_id",
    "associatedcompanyid",
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "hs_buying_role",
    "phone",
    "hs_email_optout",
]


def acme_portal() -> FakePortal:
    portal = FakePortal()
    portal.owner(
        {
            "id": MAYA,
            "email": "maya.lind@example.com",
            "firstName": "Maya",
            "lastName": "Lind",
            "userId": 9001,
        }
    )
    portal.owner(
        {
            "id": OMAR,
            "email": "omar.haddad@example.com",
            "firstName": "Omar",
            "lastName": "Haddad",
            "userId": 9002,
            "archived": True,
        }
    )
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    # parents before children in modification order is not guaranteed: the subsidiary first
    for kind, records in (
        ("companies", dict(reversed(COMPANIES.items()))),
        ("contacts", CONTACTS),
        ("deals", DEALS),
    ):
        for record_id, values in records.items():
            portal.put(kind, record_id, values, at=start)
    portal.deal_companies = {k: list(v) for k, v in DEAL_COMPANIES.items()}
    return portal
