"""HubSpot's Export button (column labels, UTF-8 with a BOM) and Stripe's Dashboard CSV exports
(customers; subscriptions of every status; "… (metadata)" columns) through the shipped mappings,
and `tenure import` without -m naming the mapping that fits (tests/fixtures/exports)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.errors import RejectedFile
from tenure.model import Account, Contact, Contract
from tests.ingest.helpers import counts, run_import
from tests.stored import stored

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
HUBSPOT, STRIPE = EXPORTS / "hubspot", EXPORTS / "stripe"
COMPANIES = HUBSPOT / "hubspot-crm-exports-all-companies-2024-07-01.csv"
CONTACTS = HUBSPOT / "hubspot-crm-exports-all-contacts-2024-07-01.csv"


def test_hubspot_ui_exports_by_their_column_labels(session: Session) -> None:
    assert COMPANIES.read_bytes().startswith(b"\xef\xbb\xbf")  # as HubSpot writes it
    report = run_import(session, "accounts", COMPANIES, "hubspot-companies-export")
    assert counts(report) == (3, 0, 0)
    parent = stored(session, Account, "18394012345")
    polska = stored(session, Account, "18394012346")
    assert polska.parent_id == parent.id  # "Parent Company", listed before its parent
    assert (parent.name, parent.employee_count, parent.country) == (
        "Nordwind Logistik GmbH",
        1200,
        "Germany",
    )
    assert parent.custom == {
        "domain": "nordwind.example",
        "annual_revenue": 250_000_000,
        "lifecycle_stage": "customer",
    }
    assert parent.created_on == date(2022, 3, 14)
    cafe = stored(session, Account, "18394012347")
    assert (cafe.name, cafe.custom["lifecycle_stage"]) == ("Café Lumière, SARL", "lead")

    assert counts(run_import(session, "contacts", CONTACTS, "hubspot-contacts-export")) == (
        3,
        0,
        0,
    )
    anke = stored(session, Contact, "51000001")
    # Associated with two companies: the account is the primary one.
    assert anke.account_id == parent.id
    assert (anke.name, anke.title, anke.roles) == (
        "Anke Vogel",
        "Head of Operations",
        ["champion", "commercial_buyer"],
    )
    assert stored(session, Contact, "51000003").name == "Élodie Roux"
    assert counts(run_import(session, "contacts", CONTACTS, "hubspot-contacts-export")) == (
        0,
        0,
        3,
    )


def test_stripe_dashboard_customers_and_subscriptions_of_every_status(session: Session) -> None:
    customers = STRIPE / "unified_customers.csv"
    assert counts(run_import(session, "accounts", customers, "stripe-customers-export")) == (
        3,
        0,
        0,
    )
    cafe = stored(session, Account, "cus_QDa0003")
    assert cafe.custom == {
        "billing_email": "owner@cafe-lumiere.example",
        "billing_currency": "EUR",
        "delinquent": True,
    }
    assert cafe.created_on == date(2024, 6, 30)
    export = STRIPE / "subscriptions.csv"
    assert counts(run_import(session, "contracts", export, "stripe-subscriptions-export")) == (
        6,
        0,
        0,
    )

    def contract(external_id: str) -> tuple[object, ...]:
        c = stored(session, Contract, external_id)
        return (c.status, c.arr, c.currency, c.billing_period, c.renewal_outcome, c.notice_on)

    # Hand-computed: Amount × Quantity × periods per year, in the Dashboard's major units.
    assert contract("sub_1PDashActive001") == ("active", 7_056, "EUR", "monthly", None, None)
    assert contract("sub_1PDashYearly002") == ("active", 240_000, "JPY", "annual", None, None)
    assert contract("sub_1PDashTrial0003")[:3] == ("pending", 1_764, "EUR")  # not ARR: pending
    assert contract("sub_1PDashPastDue04")[:3] == ("active", 1_440, "EUR")  # ARR, at risk
    assert contract("sub_1PDashLeaving05") == (
        "active",
        360_000,
        "JPY",
        "monthly",
        "churned",
        date(2024, 6, 21),
    )
    assert contract("sub_1PDashEnded0006")[0] == "cancelled"
    # Past due: ARR with the payment flagged overdue; a canceled one ends on its Ended At day.
    assert stored(session, Contract, "sub_1PDashPastDue04").payment_overdue is True
    ended = stored(session, Contract, "sub_1PDashEnded0006")
    assert ended.outcome_on is not None and ended.payment_overdue is False
    active = stored(session, Contract, "sub_1PDashActive001")
    # From the subscription's Start Date, renewing by itself (not one contract per month).
    assert (active.starts_on, active.ends_on, active.licensed_seats, active.auto_renews) == (
        date(2022, 3, 20),
        date(2024, 7, 20),
        12,
        True,
    )
    assert active.account_id == stored(session, Account, "cus_QDa0001").id


def test_stripe_dashboard_metadata_names_the_salesforce_account(
    session: Session, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "external_id,name\n0015e00000Soc1AAAR,Nordwind\n0015e00000Jpn4DAAR,Nihon Seimitsu\n"
        "0015e00000Mue3CAAR,Café Lumière\n",
        encoding="utf-8",
    )
    run_import(session, "accounts", accounts)
    export = STRIPE / "subscriptions.csv"
    report = run_import(session, "contracts", export, "stripe-subscriptions-export-salesforce")
    assert counts(report) == (6, 0, 0)
    # "0015e00000Soc1A" in the metadata column: the 18-character Account.
    nordwind = stored(session, Account, "0015e00000Soc1AAAR")
    assert stored(session, Contract, "sub_1PDashActive001").account_id == nordwind.id


@pytest.mark.parametrize(
    ("entity", "export", "mapping"),
    [
        ("accounts", COMPANIES, "hubspot-companies-export"),
        ("contacts", CONTACTS, "hubspot-contacts-export"),
        ("accounts", STRIPE / "unified_customers.csv", "stripe-customers-export"),
        ("contracts", STRIPE / "subscriptions.csv", "stripe-subscriptions-export"),
        ("users", EXPORTS / "salesforce" / "User_extract.csv", "salesforce-users"),
        ("tickets", EXPORTS / "salesforce" / "Case_extract.csv", "salesforce-cases"),
        ("touchpoints", EXPORTS / "salesforce" / "Task_extract.csv", "salesforce-tasks"),
        (
            "touchpoints",
            EXPORTS / "salesforce" / "Event_extract_bulk_api.csv",
            "salesforce-events",
        ),
    ],
)
def test_without_a_mapping_the_refusal_names_the_shipped_one_that_fits(
    session: Session, entity: str, export: Path, mapping: str
) -> None:
    with pytest.raises(RejectedFile) as refused:
        run_import(session, entity, export)
    hints = [e.reason for e in refused.value.errors if e.column is None]
    assert hints == [f"the columns fit the shipped mapping {mapping!r}: pass -m {mapping}"]
