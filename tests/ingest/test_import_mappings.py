"""The shipped mappings on small exports shaped like the real ones (tests/ingest/fixtures)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.schemas import AccountCreate
from tenure.errors import InvalidInput, NotFound, RejectedFile
from tenure.ingest.mappings import load_mapping, shipped_mappings
from tenure.model import Contact, Contract, User
from tests.ingest.helpers import FIXTURES, counts, run_import
from tests.stored import stored, stored_all


def test_a_mapping_file_of_ones_own_is_read_again_after_an_edit(tmp_path: Path) -> None:
    """Shipped mappings are read once per process (package files); a file of the customer's own
    is read on every import, so an edit between two imports counts."""
    path = tmp_path / "crm-accounts.yaml"
    layout = "name: crm-accounts\nentity: accounts\ncolumns:\n  external_id: {id}\n  name: Name\n"
    path.write_text(layout.format(id="Id"), encoding="utf-8")
    assert load_mapping(str(path)).columns["external_id"] == "Id"
    path.write_text(layout.format(id="Account ID"), encoding="utf-8")
    assert load_mapping(str(path)).columns["external_id"] == "Account ID"
    assert load_mapping("salesforce-accounts") is load_mapping("salesforce-accounts")


def test_every_shipped_mapping_loads() -> None:
    assert set(shipped_mappings()) >= {
        "hubspot-companies",
        "hubspot-contacts",
        "salesforce-accounts",
        "salesforce-cases",
        "salesforce-contacts",
        "salesforce-events",
        "salesforce-tasks",
        "salesforce-users",
        "stripe-customers",
        "stripe-subscriptions",
        "stripe-subscriptions-salesforce",
    }
    for name in shipped_mappings():
        assert load_mapping(name).name == name


def test_salesforce_accounts_and_contacts(session: Session) -> None:
    users = FIXTURES / "salesforce_users.csv"
    assert counts(run_import(session, "users", users, "salesforce-users")) == (2, 0, 0)
    accounts = FIXTURES / "salesforce_accounts.csv"
    assert counts(run_import(session, "accounts", accounts, "salesforce-accounts")) == (3, 0, 0)
    assert counts(run_import(session, "accounts", accounts, "salesforce-accounts")) == (0, 0, 3)
    acme = service.get_account(session, "0015e00000ABCdEAAX")
    europe = service.get_account(session, "0015e00000ABCdFAAX")
    assert europe.parent_id == acme.id
    assert (acme.name, acme.industry, acme.employee_count, acme.country) == (
        "Acme Corporation",
        "Manufacturing",
        5200,
        "United States",
    )
    assert acme.created_on == date(2021, 3, 4)
    assert acme.owner_id == stored(session, User, "0055e000001XyZaAAK").id
    assert acme.custom == {
        "account_type": "Customer - Direct",
        "annual_revenue": 812000000,
    }
    assert service.get_account(session, "0015e00000GLXbXAAX").name == "Globex, Inc."

    contacts = FIXTURES / "salesforce_contacts.csv"
    assert counts(run_import(session, "contacts", contacts, "salesforce-contacts")) == (3, 0, 0)
    maria = stored(session, Contact, "0035e00000JkLmNAAV")
    assert (maria.name, maria.email, maria.title, maria.account_id) == (
        "Maria Gonzalez",
        "maria.gonzalez@acme.example",
        "VP Operations",
        acme.id,
    )
    # An empty FirstName leaves just the last name.
    assert stored(session, Contact, "0035e00000JkLmOAAV").name == "Okafor"
    assert stored(session, Contact, "0035e00000JkLmPAAV").name == "Søren Kierkegaard"


def test_hubspot_companies_and_contacts(session: Session) -> None:
    companies = FIXTURES / "hubspot_companies.csv"
    assert counts(run_import(session, "accounts", companies, "hubspot-companies")) == (3, 0, 0)
    initech = service.get_account(session, "9876543210")
    labs = service.get_account(session, "9876543211")
    umbrella = service.get_account(session, "9876543212")
    assert labs.parent_id == initech.id
    assert initech.custom == {
        "domain": "initech.example",
        "hubspot_owner_id": "51234567",
        "lifecycle_stage": "customer",
    }
    # A custom lifecycle stage (numeric id) is kept as it is.
    assert umbrella.custom["lifecycle_stage"] == "1234567"
    assert (umbrella.employee_count, umbrella.country, umbrella.created_on) == (
        12000,
        "United Kingdom",
        date(2022, 9, 1),
    )

    contacts = FIXTURES / "hubspot_contacts.csv"
    assert counts(run_import(session, "contacts", contacts, "hubspot-contacts")) == (3, 0, 0)
    assert counts(run_import(session, "contacts", contacts, "hubspot-contacts")) == (0, 0, 3)
    bill = stored(session, Contact, "502")
    assert (bill.name, bill.title, bill.account_id) == ("Bill Lumbergh", "Division VP", initech.id)
    assert bill.roles == ["sponsor", "commercial_buyer"]
    # CHAMPION;DECISION_MAKER → two roles; END_USER → end_user.
    assert stored(session, Contact, "503").roles == ["champion", "commercial_buyer"]
    assert stored(session, Contact, "501").roles == ["end_user"]


def test_stripe_subscriptions(session: Session) -> None:
    service.upsert_accounts(
        session,
        [
            AccountCreate(external_id="cus_PqRsTuVwXy01", name="Hooli"),
            AccountCreate(external_id="cus_PqRsTuVwXy02", name="Pied Piper"),
        ],
    )
    subscriptions = FIXTURES / "stripe_subscriptions.jsonl"
    report = run_import(session, "contracts", subscriptions, "stripe-subscriptions")
    assert counts(report) == (3, 0, 0)
    assert counts(run_import(session, "contracts", subscriptions, "stripe-subscriptions")) == (
        0,
        0,
        3,
    )
    by_id = {c.external_id: c for c in stored_all(session, Contract, Contract.starts_on)}
    team = by_id["sub_1OaBcDeFgHiJkL"]
    # 4900 cents × 12 seats × 12 months = 7,056.00 a year.
    assert (team.plan, team.billing_period, team.arr, team.currency) == (
        "Team",
        "monthly",
        7056.0,
        "USD",
    )
    # From the day the subscription started (start_date), not the month being paid for.
    assert (team.starts_on, team.ends_on, team.licensed_seats) == (
        date(2023, 2, 1),
        date(2024, 2, 29),  # the period ends at 03-01 00:00 UTC: 02-29 is its last day
        12,
    )
    assert team.status == "active"
    enterprise = by_id["sub_1OaBcDeFgHiJkM"]
    # past_due is still an active subscription; 1,200,000 cents a year = 12,000.00.
    assert (enterprise.status, enterprise.arr, enterprise.currency) == ("active", 12000.0, "EUR")
    assert enterprise.billing_period == "annual"
    quarterly = by_id["sub_1OaBcDeFgHiJkN"]
    # 30000 cents × 5 seats, every 3 months: × 4 a year = 6,000.00.
    assert (quarterly.arr, quarterly.status, quarterly.plan) == (6000.0, "cancelled", None)


def test_a_value_the_mapping_does_not_know_rejects_the_file(
    session: Session, tmp_path: Path
) -> None:
    service.upsert_accounts(session, [AccountCreate(external_id="cus_1", name="Hooli")])
    line = (FIXTURES / "stripe_subscriptions.jsonl").read_text().splitlines()[0]
    bad = tmp_path / "subs.jsonl"
    bad.write_text(
        line.replace('"cus_PqRsTuVwXy01"', '"cus_1"').replace('"active"', '"on_hold"') + "\n"
    )
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "contracts", bad, "stripe-subscriptions")
    [error] = rejected.value.errors
    assert (error.line, error.column, error.value) == (1, "status", "on_hold")
    assert error.reason.startswith("no mapping for this value (mapped: active, canceled")
    assert stored_all(session, Contract, Contract.starts_on) == []


def test_a_mapped_file_missing_a_required_column_names_the_source_column(
    session: Session, tmp_path: Path
) -> None:
    export = tmp_path / "accounts.csv"
    # Every other column the mapping reads is there, so Name is the one problem.
    header = "Id,ParentId,Industry,NumberOfEmployees,BillingCountry,OwnerId,Type,CreatedDate,"
    export.write_text(f"{header}AnnualRevenue\n001000000000001,,Retail,,,,,,\n")
    with pytest.raises(RejectedFile) as rejected:
        run_import(session, "accounts", export, "salesforce-accounts")
    assert [(e.line, e.column, e.reason) for e in rejected.value.errors] == [
        (1, "Name", "required column is missing")
    ]


def test_mapping_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="salesforce-accounts"):
        load_mapping("salesforce-acounts")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nentity: accounts\ncolumns:\n  name: {column: a, constant: b}\n")
    with pytest.raises(InvalidInput, match="give exactly one of column, columns or constant"):
        load_mapping(str(broken))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: x\nentity: deals\ncolumns: {name: a}\n")
    with pytest.raises(InvalidInput, match="entity"):
        load_mapping(str(wrong))


def test_a_mapping_must_fit_the_entity(session: Session, tmp_path: Path) -> None:
    contacts = FIXTURES / "hubspot_contacts.csv"
    with pytest.raises(InvalidInput, match="'hubspot-companies' is for accounts, not contacts"):
        run_import(session, "contacts", contacts, "hubspot-companies")
    custom = tmp_path / "custom.yaml"
    custom.write_text(
        "name: c\nentity: contracts\ncolumns: {external_id: a, custom.x: b, nmae: c}\n"
    )
    with pytest.raises(InvalidInput, match=r"names fields contracts do not have: custom\.x, nmae"):
        run_import(session, "contracts", contacts, str(custom))


def test_stripe_objects_as_parquet_structs(session: Session, tmp_path: Path) -> None:
    """Nested objects become Parquet struct columns; dotted paths reach into them."""
    objects = [
        {k: v for k, v in json.loads(line).items() if k != "metadata"}
        for line in (FIXTURES / "stripe_subscriptions.jsonl").read_text().splitlines()
    ]
    path = tmp_path / "subscriptions.parquet"
    pq.write_table(pa.Table.from_pylist(objects), path)
    service.upsert_accounts(
        session,
        [
            AccountCreate(external_id="cus_PqRsTuVwXy01", name="Hooli"),
            AccountCreate(external_id="cus_PqRsTuVwXy02", name="Pied Piper"),
        ],
    )
    assert counts(run_import(session, "contracts", path, "stripe-subscriptions")) == (3, 0, 0)
    assert sorted(c.arr for c in stored_all(session, Contract, Contract.starts_on)) == [
        6000.0,
        7056.0,
        12000.0,
    ]


def test_a_mapping_extends_another_and_replaces_some_columns(tmp_path: Path) -> None:
    variant = load_mapping("stripe-subscriptions-salesforce")
    base = load_mapping("stripe-subscriptions")
    assert variant.entity == base.entity == "contracts"
    assert variant.source_of("account_external_id") == "metadata.salesforce_account_id"
    assert {k: v for k, v in variant.columns.items() if k != "account_external_id"} == {
        k: v for k, v in base.columns.items() if k != "account_external_id"
    }
    record = {"metadata": {"salesforce_account_id": "0019000000B98de"}}
    assert variant.specs()["account_external_id"].extract(record) == "0019000000B98deAAB"
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nextends: no-such-mapping\nentity: accounts\n")
    with pytest.raises(NotFound, match="no-such-mapping"):
        load_mapping(str(path))
