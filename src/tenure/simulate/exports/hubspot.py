"""Marketing's HubSpot portal: the companies and contacts it holds, as its Export button writes
them — the properties' labels as headers ("Record ID", "Company name", "Associated Company IDs
(Primary)"…), UTF-8 with a byte-order mark, values quoted only where needed, dates as
``YYYY-MM-DD HH:MM``. The portal holds part of the base (the marketing-led segments, not
enterprise) and is synced with Salesforce, so a company carries its "Salesforce Account ID" and
most contacts their "Salesforce Contact ID": the import matches them to the records the Salesforce
extracts stored instead of creating second ones. Marketing names some companies without their
legal form ("Polar Systems" for "Polar Systems Inc"): a disagreement the import reports, the CRM
of record's name kept (ingest/precedence.yaml).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from tenure.simulate.exports.context import ExportContext, split_name
from tenure.simulate.vendor_ids import hubspot_id

COMPANIES_FILE = "hubspot/all-companies.csv"
CONTACTS_FILE = "hubspot/all-contacts.csv"
# Enterprise accounts are sales-led: marketing's portal does not hold them.
OUTSIDE_HUBSPOT = frozenset({"enterprise"})
LEGAL_FORMS = re.compile(r"\s+(Inc|Corp|LLC|Ltd|GmbH|Group|Co|SA|AG|BV)\.?$")
# Buying Role labels for the simulator's relationship roles (hubspot-contacts-export maps back).
BUYING_ROLE = {
    "champion": "Champion",
    "sponsor": "Executive Sponsor",
    "commercial_buyer": "Budget Holder",
    "stakeholder": "Influencer",
    "end_user": "End User",
}
# Every 10th contact was created in HubSpot (a form) and never synced: matched by its e-mail.
UNSYNCED_EVERY = 10


def write_hubspot(
    ctx: ExportContext,
    accounts: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    users: list[dict[str, Any]],
) -> None:
    owners = {u["email"]: u["name"] for u in users}
    companies: dict[str, int] = {}  # simulated account → Record ID
    domains: set[str] = set()
    rows = []
    for serial, account in enumerate(accounts, start=1):
        if account["segment"] in OUTSIDE_HUBSPOT:
            continue
        record = hubspot_id(serial)
        companies[account["external_id"]] = record
        ctx.ids.append(("hubspot_company", account["external_id"], str(record)))
        marketing_name = LEGAL_FORMS.sub("", account["name"]) if serial % 5 == 0 else None
        domain = _domain(account["name"], domains)
        employees = account["employee_count"]
        rows.append(
            [
                record,
                marketing_name or account["name"],
                domain,
                account["industry"],
                employees,
                None if employees is None else employees * 150_000,
                account["country"],
                "Customer",
                "",
                f"{account['created_on'].isoformat()} 14:00",
                owners.get(account["owner_email"] or "", ""),
                ctx.account_ids[account["external_id"]][0],
            ]
        )
    header = ["Record ID", "Company name", "Company Domain Name", "Industry"]
    header += ["Number of Employees", "Annual Revenue", "Country/Region", "Lifecycle Stage"]
    header += ["Parent Company", "Create Date", "Company owner", "Salesforce Account ID"]
    ctx.write_csv(COMPANIES_FILE, header, rows, "utf-8-sig", data_loader=False)
    _write_contacts(ctx, contacts, companies)


def _write_contacts(
    ctx: ExportContext, contacts: list[dict[str, Any]], companies: dict[str, int]
) -> None:
    """The buying committee of each HubSpot company (product users are not marketing's)."""
    emails = Counter((c["email"] or "").lower() for c in contacts)
    rows = []
    for serial, contact in enumerate(contacts, start=1):
        company = companies.get(contact["account_external_id"])
        roles = [r for r in contact["roles"] or [] if r != "end_user"]
        if company is None or not roles:
            continue
        record = hubspot_id(1_000_000 + serial)
        ctx.ids.append(("hubspot_contact", contact["external_id"], str(record)))
        # a form fill never synced: only where the e-mail alone finds the one Salesforce contact
        unsynced = serial % UNSYNCED_EVERY == 0 and emails[(contact["email"] or "").lower()] == 1
        rows.append(
            [
                record,
                *split_name(contact["name"]),
                contact["email"],
                contact["title"],
                ";".join(BUYING_ROLE[r] for r in contact["roles"]),
                company,
                company,
                "" if unsynced else ctx.contact_ids[contact["external_id"]],
            ]
        )
    header = ["Record ID", "First Name", "Last Name", "Email", "Job Title", "Buying Role"]
    header += ["Associated Company IDs", "Associated Company IDs (Primary)"]
    header += ["Salesforce Contact ID"]
    ctx.write_csv(CONTACTS_FILE, header, rows, "utf-8-sig", data_loader=False)


def _domain(name: str, taken: set[str]) -> str:
    """The company's web domain from its name (``polarsystems.example``), unique in the portal."""
    stem = re.sub(r"[^a-z0-9]", "", LEGAL_FORMS.sub("", name).lower()) or "company"
    domain, n = f"{stem}.example", 1
    while domain in taken:
        n += 1
        domain = f"{stem}{n}.example"
    taken.add(domain)
    return domain
