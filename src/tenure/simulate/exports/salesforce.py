"""Salesforce Data Loader extracts of the simulated company: User, Account, Contact, Opportunity
and Case (UPPERCASE headers, every value quoted, CRLF rows, GMT date-times, 18-character ids),
with the dirt a real extract carries: cp1252, a BOM, 15-character ids, rows to refuse, a parent
after its child."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tenure.simulate.exports.context import ExportContext, gmt, java_double, split_name
from tenure.simulate.vendor_ids import (
    ACCOUNT,
    CASE,
    CONTACT,
    OPPORTUNITY,
    USER,
    product_workspace_id,
    salesforce_long_id,
    salesforce_short_id,
)

# The User's Title for each role of the simulated team.
TITLES = {
    "csm": "Customer Success Manager",
    "sales": "Account Executive",
    "services": "Implementation Consultant",
}
# A ticket's priority as Salesforce's Case picklist names it (Critical is a common addition).
CASE_PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Critical"}
# cp1252 has ’ and –; a UTF-8 reading of those bytes fails, which is how the encoding is told.
DESCRIPTION = "Renewal owner’s notes – see the success plan"
HOLDING, SUBSIDIARY = "Société Nordique Holding", "Société Nordique – Oslo"


def write_users(ctx: ExportContext, users: list[dict[str, Any]]) -> None:
    for serial, user in enumerate(users, start=1):
        ctx.user_ids[user["email"]] = salesforce_long_id(USER, serial)
        ctx.ids.append(("user", user["email"], ctx.user_ids[user["email"]]))
    header = ["Id", "Username", "FirstName", "LastName", "Email", "IsActive", "ManagerId"]
    ctx.write_csv(
        "salesforce/User.csv",
        [*header, "Title"],
        (
            [
                ctx.user_ids[u["email"]],
                u["email"],
                *split_name(u["name"]),
                u["email"],
                "true",
                ctx.user_ids.get(u["manager_email"] or ""),
                TITLES.get(u["role"], "Head of CS"),
            ]
            for u in users
        ),
        "utf-8",
    )


def write_accounts(ctx: ExportContext, accounts: list[dict[str, Any]]) -> None:
    for serial, account in enumerate(accounts, start=1):
        ids = (salesforce_long_id(ACCOUNT, serial), salesforce_short_id(ACCOUNT, serial))
        ctx.account_ids[account["external_id"]] = ids
        ctx.ids.append(("account", account["external_id"], ids[0]))
    header = ["Id", "Name", "ParentId", "Type", "Industry", "NumberOfEmployees"]
    header += ["BillingCountry", "OwnerId", "CreatedDate", "AnnualRevenue", "Description"]
    # A custom field the CS team added: the product's workspace id, its Segment groupId.
    header += ["Product_Workspace_Id__c"]
    rows = [_account_row(ctx, a) for a in accounts]
    rows = _prospects(ctx, len(accounts)) + rows
    if "refused_rows" in ctx.dirt:
        serial = len(accounts) + 3
        # a record someone started and never finished: Name is required
        rows.append([salesforce_long_id(ACCOUNT, serial), "", "", "Prospect"] + [""] * 8)
        ctx.planted.append("salesforce/Account.csv: an account without a name")
    encoding = "cp1252" if "cp1252" in ctx.dirt else "utf-8"
    ctx.write_csv("salesforce/Account.csv", header, rows, encoding)


def _account_row(ctx: ExportContext, account: dict[str, Any]) -> list[Any]:
    employees = account["employee_count"]
    return [
        ctx.account_ids[account["external_id"]][0],
        account["name"],
        "",
        "Customer - Direct",
        account["industry"],
        employees,
        account["country"],
        ctx.user_ids.get(account["owner_email"] or ""),
        gmt(account["created_on"]),
        None if employees is None else java_double(employees * 150_000.0),
        DESCRIPTION,
        product_workspace_id(account["external_id"]),
    ]


def _prospects(ctx: ExportContext, accounts: int) -> list[list[Any]]:
    """A holding company and its subsidiary, prospects (the subsidiary is in a trial)."""
    parent = salesforce_long_id(ACCOUNT, accounts + 1)
    child = salesforce_long_id(ACCOUNT, accounts + 2)
    parent_cell = salesforce_short_id(ACCOUNT, accounts + 1) if "short_ids" in ctx.dirt else parent
    ctx.prospect_ids = (parent, child)
    holding = [parent, HOLDING, "", "Prospect", "finance", 12_000]
    holding += ["France", "", gmt(ctx.as_of - timedelta(days=40)), "1.8E9", DESCRIPTION, ""]
    subsidiary = [child, SUBSIDIARY, parent_cell, "Prospect", "finance", 900]
    subsidiary += ["Norway", "", gmt(ctx.as_of - timedelta(days=30)), "1.35E8", "", ""]
    pair = [subsidiary, holding]
    return pair if "parent_after_child" in ctx.dirt else pair[::-1]


def write_contacts(ctx: ExportContext, contacts: list[dict[str, Any]]) -> None:
    for serial, contact in enumerate(contacts, start=1):
        ctx.contact_ids[contact["external_id"]] = salesforce_long_id(CONTACT, serial)
        ctx.ids.append(("contact", contact["external_id"], salesforce_long_id(CONTACT, serial)))
    rows = [
        [
            ctx.contact_ids[c["external_id"]],
            ctx.account_ref(c["account_external_id"], line),
            *split_name(c["name"]),
            c["email"],
            c["title"],
            "false",
        ]
        for line, c in enumerate(contacts)
    ]
    if "refused_rows" in ctx.dirt:
        gone = salesforce_long_id(ACCOUNT, len(ctx.account_ids) + 9)
        serial = len(contacts) + 1
        rows.insert(
            len(rows) // 2,
            [salesforce_long_id(CONTACT, serial), gone, "Ola", "Nordmann", "", "", "false"],
        )
        ctx.planted.append("salesforce/Contact.csv: a contact of a deleted account")
    header = ["Id", "AccountId", "FirstName", "LastName", "Email", "Title"]
    encoding = "utf-8-sig" if "bom" in ctx.dirt else "utf-8"
    ctx.write_csv("salesforce/Contact.csv", [*header, "HasOptedOutOfEmail"], rows, encoding)


def write_cases(ctx: ExportContext) -> None:
    """Support tickets as Salesforce Cases (Data Loader's Case extract)."""
    rows = []
    for serial, ticket in enumerate(ctx.rows("tickets"), start=1):
        case_id = salesforce_long_id(CASE, serial)
        ctx.ids.append(("ticket", ticket["external_id"], case_id))
        contact = ticket["contact_external_id"]
        closed = ticket["closed_at"]
        rows.append(
            [
                case_id,
                ctx.account_ids[ticket["account_external_id"]][0],
                ctx.contact_ids[contact] if contact else "",
                ticket["subject"] or "",
                CASE_PRIORITY[ticket["priority"]],
                ticket["category"] or "",
                "Closed" if closed else "New",
                gmt(ticket["opened_at"]),
                gmt(closed) if closed else "",
            ]
        )
    header = ["Id", "AccountId", "ContactId", "Subject", "Priority", "Type", "Status"]
    header += ["CreatedDate", "ClosedDate"]
    ctx.write_csv("salesforce/Case.csv", header, rows, "utf-8")


# The deal's kind as the Opportunity Type picklist names it ("Renewal" is the value orgs add).
OPPORTUNITY_TYPE = {"renewal": "Renewal", "expansion": "Existing Customer - Upgrade"}
FORECAST_CATEGORY = {
    "pipeline": "Pipeline",
    "best_case": "Best Case",
    "commit": "Commit",
    "closed": "Closed",
    "omitted": "Omitted",
}


def java_number(value: float) -> str:
    """A double as Data Loader writes it (Java's Double.toString): 48000.0, 1.25E7."""
    return repr(float(value)) if 1e-3 <= abs(value) < 1e7 else java_double(value)


def write_opportunities(ctx: ExportContext) -> None:
    """The renewal and expansion deals as Data Loader's Opportunity extract (a multi-currency
    org: CurrencyIsoCode; IsClosed/IsWon booleans; CloseDate a date, CreatedDate GMT)."""
    rows = []
    for serial, deal in enumerate(ctx.rows("opportunities"), start=1):
        deal_id = salesforce_long_id(OPPORTUNITY, serial)
        ctx.ids.append(("opportunity", deal["external_id"], deal_id))
        closed = deal["status"] != "open"
        rows.append(
            [
                deal_id,
                ctx.account_ref(deal["account_external_id"], serial),
                deal["name"],
                OPPORTUNITY_TYPE[deal["kind"]],
                deal["stage"],
                java_number(deal["amount"]),
                deal["currency"],
                java_number(deal["probability"]) if deal["probability"] else "0.0",
                deal["close_on"].isoformat(),
                "true" if closed else "false",
                "true" if deal["status"] == "won" else "false",
                FORECAST_CATEGORY[deal["forecast_category"]],
                gmt(deal["opened_on"]),
                ctx.user_ids.get(deal["owner_email"] or ""),
                "",
            ]
        )
    header = ["Id", "AccountId", "Name", "Type", "StageName", "Amount", "CurrencyIsoCode"]
    header += ["Probability", "CloseDate", "IsClosed", "IsWon", "ForecastCategoryName"]
    header += ["CreatedDate", "OwnerId", "Description"]
    ctx.write_csv("salesforce/Opportunity.csv", header, rows, "utf-8")
