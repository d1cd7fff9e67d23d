"""A small Salesforce org as its REST API returns it, and the same org as a Data Loader extract.

Why each record exists: Maya Lind owns every account (owners are users, synced first); Acme is a
parent with a child (parents and children sync in one object), Globex has no employee count (a
null the API sends), Initech's AnnualRevenue is a double Data Loader writes in Java notation; Ana
Ruiz is Acme's contact, Bo Chen has no title, Cy Diaz belongs to the child, Dee Eng to Globex.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.connectors.fake_salesforce import FakeOrg

OWNER = "0055e000001OwnAAAS"
CREATED = datetime(2023, 1, 10, 9, 0, tzinfo=UTC)

USERS: list[dict[str, Any]] = [
    {
        "Id": OWNER,
        "Email": "maya.lind@example.com",
        "FirstName": "Maya",
        "LastName": "Lind",
        "IsActive": True,
        "ManagerId": None,
    },
]

ACCOUNTS: list[dict[str, Any]] = [
    {
        "Id": "0015e00000Acm1AAAR",
        "Name": "Acme Corporation",
        "ParentId": None,
        "Industry": "Manufacturing",
        "NumberOfEmployees": 5200,
        "BillingCountry": "United States",
        "OwnerId": OWNER,
        "Type": "Customer - Direct",
        "AnnualRevenue": 48500000.0,
        "CreatedDate": "2019-06-03T08:15:00.000+0000",
        "Tier__c": "Gold",
    },
    {
        "Id": "0015e00000Acm2BAAR",
        "Name": "Acme Europe",
        "ParentId": "0015e00000Acm1AAAR",
        "Industry": "Manufacturing",
        "NumberOfEmployees": 640,
        "BillingCountry": "Germany",
        "OwnerId": OWNER,
        "Type": "Customer - Channel",
        "AnnualRevenue": None,
        "CreatedDate": "2020-02-11T14:00:00.000+0000",
        "Tier__c": None,
    },
    {
        "Id": "0015e00000Glx3CAAR",
        "Name": "Globex",
        "ParentId": None,
        "Industry": "Energy",
        "NumberOfEmployees": None,
        "BillingCountry": "Canada",
        "OwnerId": OWNER,
        "Type": "Customer - Direct",
        "AnnualRevenue": 12000000.0,
        "CreatedDate": "2021-09-30T23:30:00.000+0000",
        "Tier__c": "Silver",
    },
    {
        "Id": "0015e00000Ini4DAAR",
        "Name": "Initech",
        "ParentId": None,
        "Industry": "Technology",
        "NumberOfEmployees": 85,
        "BillingCountry": "United States",
        "OwnerId": OWNER,
        "Type": "Customer - Direct",
        "AnnualRevenue": 4850000000.0,
        "CreatedDate": "2022-03-01T10:00:00.000+0000",
        "Tier__c": None,
    },
]

CONTACTS: list[dict[str, Any]] = [
    {
        "Id": "0035e00000Con1AAAR",
        "AccountId": "0015e00000Acm1AAAR",
        "FirstName": "Ana",
        "LastName": "Ruiz",
        "Email": "ana.ruiz@acme.example",
        "Title": "VP Operations",
    },
    {
        "Id": "0035e00000Con2BAAR",
        "AccountId": "0015e00000Acm1AAAR",
        "FirstName": "Bo",
        "LastName": "Chen",
        "Email": "bo.chen@acme.example",
        "Title": None,
    },
    {
        "Id": "0035e00000Con3CAAR",
        "AccountId": "0015e00000Acm2BAAR",
        "FirstName": "Cy",
        "LastName": "Diaz",
        "Email": "cy.diaz@acme-europe.example",
        "Title": "CS Lead",
    },
    {
        "Id": "0035e00000Con4DAAR",
        "AccountId": "0015e00000Glx3CAAR",
        "FirstName": "Dee",
        "LastName": "Eng",
        "Email": "dee@globex.example",
        "Title": "CTO",
    },
]


def acme_org() -> FakeOrg:
    org = FakeOrg()
    for user in USERS:
        org.put("User", dict(user))
    for account in ACCOUNTS:
        org.put("Account", dict(account))
    for contact in CONTACTS:
        org.put("Contact", dict(contact))
    return org


def java_double(value: float) -> str:
    """Double.toString as Data Loader writes a double: E notation from 10^7 up (4.85E9)."""
    if abs(value) < 1e7:
        return repr(value)
    mantissa, exponent = f"{value:.15E}".split("E")
    return f"{float(mantissa)!r}E{int(exponent)}"


def data_loader_extract(org: FakeOrg, obj: str, path: Path) -> Path:
    """The org's records of ``obj`` as a Data Loader extract (UPPERCASE headers, all quoted)."""
    records = sorted(org.records[obj].values(), key=lambda r: r["Id"])
    columns = [c for c in records[0] if c != "SystemModstamp"]

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return java_double(value) if isinstance(value, float) else str(value)

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([c.upper() for c in columns])
        for record in records:
            writer.writerow([cell(record.get(c)) for c in columns])
    return path
