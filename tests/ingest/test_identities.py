"""One company, several systems (issue 17): Salesforce, HubSpot and Stripe exports of the same
companies import as one book — matched on any identity, conflicts reported, precedence per field.

Fixtures: tests/fixtures/identity/ (its README says which documented format each follows and who
is in which system).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.ingest import importer
from tenure.ingest.identities import domain_of
from tenure.ingest.importer import import_records
from tenure.ingest.mappings import load_mapping
from tenure.ingest.provenance import Precedence, load_precedence
from tenure.ingest.request import ImportReport, ImportRequest
from tenure.ingest.runs import ImportRunRead, record_run
from tenure.model import Account, Contact, Contract, SourceIdentity
from tenure.model.base import utcnow
from tests.ingest.helpers import counts, write_rows
from tests.stored import stored

FIXTURES = Path(__file__).parents[1] / "fixtures" / "identity"
ACME, GLOBEX, UMBRELLA = "0015e00000AcmeAAAR", "0015e00000GlobXAAR", "0015e00000UmbrLAAR"
MARIA, JON, PRIYA = "0035e00000MariAAAR", "0035e00000JonsBAAR", "0035e00000OptOuAAJ"
SALESFORCE = [
    ("users", "salesforce_User.csv", "salesforce-users"),
    ("accounts", "salesforce_Account.csv", "salesforce-accounts"),
    ("contacts", "salesforce_Contact.csv", "salesforce-contacts"),
]
HUBSPOT = [
    ("accounts", "hubspot_companies.csv", "hubspot-companies"),
    ("contacts", "hubspot_contacts.csv", "hubspot-contacts"),
]
STRIPE = [
    ("accounts", "stripe_customers.jsonl", "stripe-customers"),
    ("contracts", "stripe_subscriptions.jsonl", "stripe-subscriptions"),
]


def _import(
    session: Session,
    entity: str,
    path: Path,
    mapping: str,
    precedence: Precedence | None = None,
) -> ImportReport:
    request = ImportRequest(entity, path, load_mapping(mapping), precedence=precedence)
    return import_records(session, request)


def _walk(
    session: Session, doors: list[tuple[str, str, str]], precedence: Precedence | None = None
) -> dict[str, ImportReport]:
    return {
        name: _import(session, entity, FIXTURES / name, mapping, precedence)
        for entity, name, mapping in doors
    }


def _identities(session: Session, account: Account) -> set[tuple[str, str, str | None]]:
    rows = session.scalars(sa.select(SourceIdentity).where(SourceIdentity.account_id == account.id))
    return {(i.system.value, i.value, i.given_by) for i in rows}


def test_salesforce_then_hubspot_then_stripe_is_one_book(session: Session) -> None:
    reports = _walk(session, SALESFORCE + HUBSPOT + STRIPE)
    # Acme, Globex, Umbrella from Salesforce; Initech from HubSpot; Hooli from Stripe (a gmail
    # address is no company's domain). Without matching there would be 3 + 3 + 4 = 10.
    assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 5
    assert counts(reports["hubspot_companies.csv"]) == (1, 2, 0)
    assert reports["hubspot_companies.csv"].matched == 2  # Acme by its SF id, Globex by domain
    # The three matched accounts gain the customer's billing e-mail, currency and delinquency.
    assert counts(reports["stripe_customers.jsonl"]) == (1, 3, 0)
    assert reports["stripe_customers.jsonl"].matched == 3  # Acme, Umbrella by metadata; Initech
    acme = stored(session, Account, ACME)
    assert _identities(session, acme) == {
        ("salesforce", ACME, "salesforce"),
        ("domain", "acme.example", "salesforce"),  # Website https://www.acme.example/
        ("hubspot", "9001", "hubspot"),
        ("stripe", "cus_QAcme01", "stripe"),
    }
    initech = stored(session, Account, "9003")
    assert ("stripe", "cus_QInit03", "stripe") in _identities(session, initech)
    # Subscriptions name Stripe customers: each lands on the account its customer joined.
    owners = {
        k.external_id: session.get(Account, k.account_id).external_id  # type: ignore[union-attr]
        for k in session.scalars(sa.select(Contract))
    }
    assert owners == {
        "sub_1QAcmeAnnual01": ACME,
        "sub_1QInitMonthly3": "9003",
        "sub_1QUmbrAnnual04": UMBRELLA,
        "sub_1QHoolMonthly5": "cus_QHool05",
    }
    # Contacts: Maria (same e-mail, other case) and Priya merge; Peter and Samir join Initech;
    # Bill (gmail, no company) stays without an account.
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 6
    hubspot_contacts = reports["hubspot_contacts.csv"]
    assert counts(hubspot_contacts) == (3, 2, 0)
    assert hubspot_contacts.matched == 2
    assert hubspot_contacts.linked_by_domain == 1
    assert hubspot_contacts.without_account == 1
    assert stored(session, Contact, "503").account_id == initech.id  # samir@initech.example
    assert stored(session, Contact, "504").account_id is None  # bill.lumbergh@gmail.com


def test_hubspot_first_then_salesforce_merges_as_well(session: Session) -> None:
    reports = _walk(session, HUBSPOT + SALESFORCE)
    salesforce = reports["salesforce_Account.csv"]
    # Acme by the Salesforce id HubSpot recorded, Globex by its domain; Umbrella is new.
    assert counts(salesforce) == (1, 2, 0) and salesforce.matched == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 4
    acme = stored(session, Account, "9001")  # keeps the key it was first stored under
    assert acme.parent_id is None
    # Umbrella's parent is Globex by its Salesforce id: it follows Globex to its HubSpot key.
    assert stored(session, Account, UMBRELLA).parent_id == stored(session, Account, "9002").id
    # Maria's contact row is the HubSpot one (same e-mail); Jon reports to nobody; Maria to Jon.
    maria = session.scalars(sa.select(Contact).where(Contact.external_id == "501")).one()
    jon = stored(session, Contact, JON)
    assert maria.reports_to_id == jon.id
    assert jon.account_id == acme.id  # AccountId 0015e00000AcmeA (15 characters)


def test_conflicts_are_reported_and_the_precedence_decides(session: Session) -> None:
    reports = _walk(session, SALESFORCE + HUBSPOT)
    acme = stored(session, Account, ACME)
    # Shipped precedence: HubSpot's firmographics, Salesforce's name.
    assert (acme.name, acme.industry, acme.employee_count) == ("Acme Corp", "MACHINERY", 5400)
    assert acme.field_sources["industry"] == "hubspot"
    assert acme.field_sources["name"] == "salesforce"
    assert acme.field_sources["custom.annual_revenue"] == "salesforce"
    conflicts = {(c.record, c.field): c for c in reports["hubspot_companies.csv"].conflicts}
    assert set(conflicts) == {
        (ACME, "name"),
        (ACME, "industry"),
        (ACME, "employee_count"),
        (ACME, "created_on"),
        (GLOBEX, "industry"),
        (GLOBEX, "created_on"),
    }
    industry = conflicts[ACME, "industry"]
    assert (industry.stored, industry.stored_by) == ("Manufacturing", "salesforce")
    assert (industry.given, industry.given_by, industry.kept) == ("MACHINERY", "hubspot", "hubspot")
    assert conflicts[ACME, "name"].kept == "salesforce"
    # A person who opted out in Salesforce stays opted out whatever HubSpot says.
    priya = stored(session, Contact, PRIYA)
    assert priya.email_opt_out is True
    [opt_out] = [c for c in reports["hubspot_contacts.csv"].conflicts if c.field == "email_opt_out"]
    assert opt_out.kept == "salesforce"
    # Maria's phone: HubSpot's (people update their own); her name stays Salesforce's.
    maria = stored(session, Contact, MARIA)
    assert maria.phone == "+49 30 9876 5432"
    assert maria.name == "María Gómez"
    # The same file again: nothing to decide, nothing changes.
    again = _import(session, "accounts", FIXTURES / "hubspot_companies.csv", "hubspot-companies")
    assert counts(again) == (0, 0, 3)


def test_a_precedence_setting_changes_who_wins(session: Session, tmp_path: Path) -> None:
    setting = tmp_path / "precedence.yaml"
    setting.write_text(
        "default: [salesforce, hubspot]\naccounts:\n  industry: [salesforce, hubspot]\n"
    )
    precedence = load_precedence(setting)
    reports = _walk(session, SALESFORCE[:2] + HUBSPOT[:1], precedence)
    acme = stored(session, Account, ACME)
    assert (acme.industry, acme.employee_count) == ("Manufacturing", 5200)
    assert acme.field_sources["industry"] == "salesforce"
    kept = {(c.record, c.field): c.kept for c in reports["hubspot_companies.csv"].conflicts}
    assert kept[ACME, "industry"] == "salesforce"
    assert kept[ACME, "employee_count"] == "salesforce"
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: [salesforce]\n")
    with pytest.raises(Exception, match="not a valid precedence setting"):
        load_precedence(bad)


def test_fields_outside_the_mapping_stay_untouched(session: Session, tmp_path: Path) -> None:
    own = write_rows(
        tmp_path,
        "accounts",
        "jsonl",
        [{"external_id": ACME, "name": "Acme Corp", "segment": "enterprise", "region": "DACH"}],
    )
    import_records(session, ImportRequest("accounts", own))
    _walk(session, SALESFORCE[:2] + HUBSPOT[:1])
    acme = stored(session, Account, ACME)
    assert acme.segment == "enterprise"  # no mapping names it
    # Salesforce's BillingCountry is the country, not the sales region: no disagreement, both
    # kept, each with the system that gave it.
    assert (acme.region, acme.country) == ("DACH", "Germany")
    assert (acme.field_sources["region"], acme.field_sources["country"]) == ("tenure", "salesforce")
    assert "segment" in acme.field_sources and acme.field_sources["segment"] == "tenure"


def test_two_rows_naming_one_account_are_reported_not_merged(
    session: Session, tmp_path: Path
) -> None:
    _walk(session, SALESFORCE[:2])
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        "".join(
            json.dumps(
                {
                    "id": customer,
                    "name": name,
                    "email": "ap@acme.example",
                    "created": 1614853320,
                    "metadata": {"salesforce_account_id": ACME},
                }
            )
            + "\n"
            for customer, name in (("cus_A", "Acme EUR"), ("cus_B", "Acme USD"))
        )
    )
    report = _import(session, "accounts", customers, "stripe-customers")
    # Acme gains the billing e-mail (custom.billing_email): updated.
    assert counts(report) == (1, 1, 0) and report.matched == 1
    [problem] = report.identity_problems
    assert (problem.record, problem.identity) == ("cus_B", f"salesforce {ACME}")
    assert "another row of this import already updates" in problem.reason
    # cus_B is an account of its own; the Salesforce id stays Acme's.
    assert stored(session, Account, "cus_B").name == "Acme USD"


def test_an_import_history_entry_keeps_its_identities_and_conflicts(session: Session) -> None:
    _walk(session, SALESFORCE[:2])
    started_at = utcnow()
    report = _import(session, "accounts", FIXTURES / "hubspot_companies.csv", "hubspot-companies")
    run = record_run(session, report, started_at=started_at)
    read = ImportRunRead.model_validate(run)
    assert read.matched == 2
    assert {(c["record"], c["field"]) for c in read.conflicts} >= {(ACME, "industry")}
    given = session.scalars(
        sa.select(SourceIdentity).where(SourceIdentity.import_run_id == run.id)
    ).all()
    # HubSpot's ids of the three companies and Initech's domain (Acme's and Globex's domains
    # were recorded by Salesforce already).
    assert sorted((i.system.value, i.value) for i in given) == [
        ("domain", "initech.example"),
        ("hubspot", "9001"),
        ("hubspot", "9002"),
        ("hubspot", "9003"),
    ]


def test_rows_match_and_link_across_batches(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200,000-row file is written 2,000 rows at a time: a parent or a matched record in
    another batch is found all the same (here batches of one row)."""
    monkeypatch.setattr(importer, "RECORD_BATCH", 1)
    reports = _walk(session, SALESFORCE + HUBSPOT)
    assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 4
    assert reports["hubspot_companies.csv"].matched == 2
    assert stored(session, Account, UMBRELLA).parent_id == stored(session, Account, GLOBEX).id
    # Maria (line 2) reports to Jon (line 3): linked once Jon's batch is written.
    assert stored(session, Contact, MARIA).reports_to_id == stored(session, Contact, JON).id


def test_domains_are_told_from_addresses_and_urls() -> None:
    assert domain_of("Ops@Acme.COM") == "acme.com"
    assert domain_of("https://www.acme.com/about") == "acme.com"
    assert domain_of("http://acme.co.uk:8080") == "acme.co.uk"
    assert domain_of("ana@gmail.com") is None
    assert domain_of("n/a") is None


def test_contact_custom_fields_keep_numbers_with_the_number_transform(
    session: Session, tmp_path: Path
) -> None:
    _walk(session, SALESFORCE[:2])
    mapping = tmp_path / "contacts.yaml"
    mapping.write_text(
        "name: sf-contacts-scores\nentity: contacts\ncolumns:\n"
        "  external_id: {column: Id, transform: salesforce_id}\n"
        "  account_external_id: {column: AccountId, transform: salesforce_id}\n"
        "  custom.lead_score: {column: Lead_Score__c, transform: number}\n"
        "  custom.nps_weight: {column: NPS_Weight__c, transform: number}\n"
        "  custom.badge: Badge__c\n"
    )
    export = tmp_path / "Contact.csv"
    export.write_text(
        '"ID","ACCOUNTID","LEAD_SCORE__C","NPS_WEIGHT__C","BADGE__C"\r\n'
        f'"{MARIA}","{ACME}","8.5E1","0.125","007"\r\n'
    )
    report = import_records(session, ImportRequest("contacts", export, load_mapping(str(mapping))))
    assert counts(report) == (1, 0, 0)
    maria = stored(session, Contact, MARIA)
    # Numbers stay numbers (JSON) for filters and sums; text stays text ("007", not 7).
    assert maria.custom == {"lead_score": 85, "nps_weight": 0.125, "badge": "007"}
    # A mapping that names no system writes as Tenure's own format.
    assert maria.field_sources["custom.lead_score"] == "tenure"
