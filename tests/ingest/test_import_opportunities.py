"""Opportunities from the CRMs' own exports (tests/fixtures/exports/*/README.md say which
documentation each follows): a Salesforce Data Loader Opportunity extract and HubSpot deals, to
the stored deals and the growth forecast."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.ingest.mappings import fitting_mappings
from tenure.model import (
    Account,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    User,
)
from tenure.portfolio.pipeline import pipeline_view
from tests import factories as f
from tests.ingest.helpers import counts, run_import
from tests.stored import stored

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
SALESFORCE = EXPORTS / "salesforce"


def test_a_data_loader_opportunity_extract(session: Session) -> None:
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    assert counts(
        run_import(
            session, "accounts", SALESFORCE / "Account_extract_utf8.csv", "salesforce-accounts"
        )
    ) == (3, 0, 0)
    export = SALESFORCE / "Opportunity_extract.csv"
    assert counts(run_import(session, "opportunities", export, "salesforce-opportunities")) == (
        4,
        0,
        0,
    )
    emea = stored(session, Opportunity, "0065e00000Opp01AAB")
    assert (emea.kind, emea.status, emea.stage, emea.amount, emea.currency) == (
        OpportunityKind.expansion,
        OpportunityStatus.open,
        "Negotiation/Review",
        48000.0,
        "EUR",
    )
    assert (emea.probability, emea.forecast_category, emea.close_on, emea.closed_on) == (
        90.0,
        ForecastCategory.commit,
        date(2027, 3, 31),
        None,
    )
    assert emea.opened_on == date(2026, 10, 1)
    owner = session.get_one(User, emea.owner_id)
    assert owner.external_id == "0055e000001OwnAAAS"
    tokyo = stored(session, Opportunity, "0065e00000Opp02AAB")
    assert (tokyo.amount, tokyo.currency) == (12_500_000.0, "JPY")  # 1.25E7
    # ACCOUNTID 0015e00000Soc2B is the 15-character form of Paris's id.
    assert tokyo.account_id == stored(session, Account, "0015e00000Soc2BAAR").id
    renewal = stored(session, Opportunity, "0065e00000Opp03AAB")
    assert (renewal.kind, renewal.status, renewal.closed_on) == (
        OpportunityKind.renewal,
        OpportunityStatus.won,
        date(2026, 11, 30),
    )
    lost = stored(session, Opportunity, "0065e00000Opp04AAB")
    # A blank Type is new business; the Description keeps its line break.
    assert (lost.kind, lost.status, lost.closed_on) == (
        OpportunityKind.new_business,
        OpportunityStatus.lost,
        date(2026, 9, 15),
    )
    assert lost.description == "Lost to the incumbent's bundle.\nRevisit with the 2027 budget."
    # The forecast of the open ones: 48,000 EUR × 90 % and 12,500,000 JPY × 25 %.
    rows = pipeline_view(session, date(2026, 12, 1)).forecast.rows
    assert [(r.period, r.currency, r.expected) for r in rows if r.bucket == "quarter"] == [
        ("2027-Q1", "EUR", Decimal("43200.00")),
        ("2027-Q2", "JPY", Decimal("3125000")),
    ]
    assert counts(run_import(session, "opportunities", export, "salesforce-opportunities")) == (
        0,
        0,
        4,
    )


def test_the_shipped_mapping_is_named_for_the_extract() -> None:
    header = (SALESFORCE / "Opportunity_extract.csv").read_text("utf-8").splitlines()[0]
    columns = [c.strip('"') for c in header.split(",")]
    assert [m.name for m in fitting_mappings(columns)] == ["salesforce-opportunities"]


def test_hubspot_deals_from_the_crm_api(session: Session) -> None:
    f.account(session, external_id="9410581203", name="Acme")
    f.account(session, external_id="9410581299", name="Globex")
    export = EXPORTS / "hubspot" / "deals.jsonl"
    assert counts(run_import(session, "opportunities", export, "hubspot-deals")) == (4, 0, 0)
    seats = stored(session, Opportunity, "18273645091")
    assert (seats.kind, seats.stage, seats.probability, seats.close_on) == (
        OpportunityKind.expansion,
        "contractsent",
        90.0,  # "0.9" as a fraction
        date(2027, 1, 31),
    )
    globex = stored(session, Opportunity, "18273645102")
    assert (globex.kind, globex.forecast_category, globex.amount) == (
        OpportunityKind.new_business,
        ForecastCategory.pipeline,
        60000.0,
    )
    won = stored(session, Opportunity, "18273645117")
    assert (won.status, won.close_reason, won.closed_on) == (
        OpportunityStatus.won,
        "Needed the API tier for the data team",
        date(2026, 10, 20),
    )
    lost = stored(session, Opportunity, "18273645130")
    assert (lost.status, lost.close_reason) == (OpportunityStatus.lost, "Budget frozen until Q3")
    rows = pipeline_view(session, date(2026, 12, 1)).forecast.rows
    assert [(r.period, r.kind.value, r.expected) for r in rows if r.bucket == "quarter"] == [
        ("2027-Q1", "new_business", Decimal("24000.00")),
        ("2027-Q1", "expansion", Decimal("21600.00")),
    ]


def test_a_single_currency_org_s_extract_has_no_currency_column(
    session: Session, tmp_path: Path
) -> None:
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")
    run_import(session, "accounts", SALESFORCE / "Account_extract_utf8.csv", "salesforce-accounts")
    with open(SALESFORCE / "Opportunity_extract.csv", encoding="utf-8", newline="") as handle:
        header, first, *_ = csv.reader(handle)
    drop = header.index("CURRENCYISOCODE")
    export = tmp_path / "Opportunity.csv"
    with open(export, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerows([v for i, v in enumerate(row) if i != drop] for row in (header, first))
    assert counts(run_import(session, "opportunities", export, "salesforce-opportunities")) == (
        1,
        0,
        0,
    )
    assert stored(session, Opportunity, "0065e00000Opp01AAB").currency == "USD"


def test_a_hubspot_deal_finds_its_owner_by_hubspot_owner_id(
    session: Session, tmp_path: Path
) -> None:
    """The deal's hubspot_owner_id is the owner the hubspot-owners import stored (GET
    /crm/v3/owners objects); without that owner the deal is refused, naming the id."""
    f.account(session, external_id="9410581203", name="Acme")
    deal = json.loads((EXPORTS / "hubspot" / "deals.jsonl").read_text("utf-8").splitlines()[0])
    deal["properties"]["hubspot_owner_id"] = "51234567"
    deals = tmp_path / "deals.jsonl"
    deals.write_text(json.dumps(deal) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="51234567"):
        run_import(session, "opportunities", deals, "hubspot-deals")
    owner = {
        "id": "51234567",
        "email": "maya.patel@example.com",
        "type": "PERSON",
        "firstName": "Maya",
        "lastName": "Patel",
        "userId": 9182736,
        "createdAt": "2024-02-01T09:00:00.000Z",
        "updatedAt": "2026-10-01T09:00:00.000Z",
        "archived": False,
    }
    owners = tmp_path / "owners.jsonl"
    owners.write_text(json.dumps(owner) + "\n", encoding="utf-8")
    run_import(session, "users", owners, "hubspot-owners")
    assert counts(run_import(session, "opportunities", deals, "hubspot-deals")) == (1, 0, 0)
    stored_deal = stored(session, Opportunity, "18273645091")
    assert stored_deal.owner_id is not None
    assert session.get_one(User, stored_deal.owner_id).email == "maya.patel@example.com"
