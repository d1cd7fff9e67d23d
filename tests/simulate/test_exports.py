"""`tenure simulate --as-exports`: each tool's format with its dirt, and every exported row through
its door — the planted rows refused with their reasons, nothing else."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import accounts_by_group_id
from tenure.errors import InvalidInput
from tenure.model import (
    Account,
    Contact,
    Contract,
    EngagementMessage,
    Opportunity,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
)
from tenure.simulate.doors import create_team, import_exports
from tenure.simulate.exports import (
    DIRT_KINDS,
    USAGE_FILE,
    Dirt,
    ExportsResult,
    simulate_as_exports,
)
from tenure.simulate.exports.hubspot import COMPANIES_FILE, CONTACTS_FILE
from tenure.simulate.vendor_ids import product_workspace_id
from tests.simulate.conftest import tiny_config


def _fresh(parent: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=parent)) / "exports"


@pytest.fixture(scope="module")
def dirty(fast_dir: Path) -> ExportsResult:
    return simulate_as_exports(tiny_config(accounts=30, months=2), _fresh(fast_dir))


@pytest.fixture(scope="module")
def clean(fast_dir: Path) -> ExportsResult:
    return simulate_as_exports(
        tiny_config(accounts=30, months=2), _fresh(fast_dir), Dirt.parse("none")
    )


def _csv(path: Path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_dirt_is_all_by_default_none_or_a_list() -> None:
    assert Dirt().kinds == Dirt.parse("all").kinds == frozenset(DIRT_KINDS)
    assert Dirt.parse("none").kinds == frozenset()
    assert Dirt.parse("bom, cp1252").kinds == {"bom", "cp1252"}
    with pytest.raises(InvalidInput, match="unknown dirt mud"):
        Dirt.parse("bom,mud")


def test_data_loader_extracts_carry_their_dirt(dirty: ExportsResult) -> None:
    folder = dirty.simulation.location
    account_bytes = (folder / "salesforce" / "Account.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        account_bytes.decode("utf-8")  # cp1252: ’ and – are single bytes
    assert account_bytes.startswith(b'"ID","NAME","PARENTID",')
    assert account_bytes.count(b"\r\n") == dirty.files["salesforce/Account.csv"] + 1
    accounts = _csv(folder / "salesforce" / "Account.csv", "cp1252")
    names = [a["NAME"] for a in accounts]
    # the subsidiary comes first, its ParentId in the 15-character form of the holding's id
    assert names.index("Société Nordique – Oslo") < names.index("Société Nordique Holding")
    holding = accounts[names.index("Société Nordique Holding")]
    assert accounts[0]["PARENTID"] == holding["ID"][:15]
    assert names[-1] == ""  # planted: an account without a name
    contact_bytes = (folder / "salesforce" / "Contact.csv").read_bytes()
    assert contact_bytes.startswith(b'\xef\xbb\xbf"ID","ACCOUNTID",')
    contacts = _csv(folder / "salesforce" / "Contact.csv", "utf-8-sig")
    short = [c for c in contacts if len(c["ACCOUNTID"]) == 15]
    assert len(short) == len([n for n in range(len(contacts) - 1) if n % 7 == 3])
    assert len(dirty.planted) == 5


def test_clean_exports_have_no_dirt(clean: ExportsResult) -> None:
    folder = clean.simulation.location
    (folder / "salesforce" / "Account.csv").read_bytes().decode("utf-8")
    assert not (folder / "salesforce" / "Contact.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    contacts = _csv(folder / "salesforce" / "Contact.csv", "utf-8")
    assert {len(c["ACCOUNTID"]) for c in contacts} == {18}
    assert clean.planted == []


def test_stripe_subscriptions_are_api_objects_with_the_crm_id_in_metadata(
    dirty: ExportsResult,
) -> None:
    folder = dirty.simulation.location
    lines = (folder / "stripe" / "subscriptions.jsonl").read_text().splitlines()
    subscriptions = [json.loads(line) for line in lines]
    statuses = {s["status"] for s in subscriptions}
    assert statuses >= {"active", "trialing"}
    intervals = {s["plan"]["interval"] for s in subscriptions}
    assert intervals == {"month", "year"}
    assert {s["plan"]["currency"] for s in subscriptions} == {"usd", "eur"}
    for s in subscriptions:
        assert s["id"].startswith("sub_") and s["customer"].startswith("cus_")
        assert len(s["metadata"]["salesforce_account_id"]) in (15, 18)
        # Stripe's period end is the instant the next period starts
        assert s["current_period_end"] > s["current_period_start"]


def test_every_row_enters_through_its_door_and_only_the_planted_ones_are_refused(
    session: Session, dirty: ExportsResult
) -> None:
    folder = dirty.simulation.location
    create_team(session, folder)
    reports = {door.path.name: door.report for door in import_exports(session, folder)}
    refused = {
        name: [(e.column, e.reason) for e in r.rejects] for name, r in reports.items() if r.rejects
    }
    assert refused == {
        "Account.csv": [("Name", "required value is missing")],
        "Contact.csv": [
            (
                "AccountId",
                refused["Contact.csv"][0][1],
            )
        ],
        "subscriptions.jsonl": [("plan.amount", "required value is missing")],
    }
    assert refused["Contact.csv"][0][1].startswith("no account with external id")
    rows = dirty.simulation.rows

    def count(model: type) -> int:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)

    assert count(Account) == rows["accounts"] + 2  # and the two prospects
    assert count(Contact) == rows["contacts"]
    assert count(Contract) == rows["contracts"] + 1  # and the prospect's trial
    assert count(SurveyResponse) == rows["surveys"]
    assert count(Ticket) == rows["tickets"]
    # Each message the team sent from Tenure is logged as the e-mail touchpoint it was.
    assert count(EngagementMessage) == rows["messages"] > 0
    assert count(Touchpoint) == rows["touchpoints"] + rows["messages"]
    oslo = session.scalar(sa.select(Account).where(Account.name == "Société Nordique – Oslo"))
    holding = session.scalar(sa.select(Account).where(Account.name == "Société Nordique Holding"))
    assert oslo is not None and holding is not None and oslo.parent_id == holding.id
    # User.csv's Salesforce ids reached the team created as an admin would (matched by e-mail),
    # so every Account's OWNERID found its owner: the same one tenure/accounts.jsonl names.
    assert reports["User.csv"].inserted == 0
    # Stripe's customers land on the Salesforce Accounts their metadata names: no second account.
    assert (reports["customers.jsonl"].inserted, reports["customers.jsonl"].rows > 0) == (0, True)
    assert count(User) == rows["users"]
    assert session.scalar(sa.select(sa.func.count()).where(User.external_id.is_(None))) == 0
    owned = session.scalar(sa.select(sa.func.count()).where(Account.owner_id.is_not(None)))
    assert owned == rows["accounts"]
    # Every deal through salesforce-opportunities, owned by the account's CSM by OwnerId.
    assert count(Opportunity) == rows["opportunities"] > 0
    unowned = sa.select(sa.func.count()).where(Opportunity.owner_id.is_(None))
    assert session.scalar(unowned) == 0
    # HubSpot's companies and contacts are the Salesforce records their "Salesforce Account ID"
    # / "Salesforce Contact ID" (or, unsynced, the e-mail) names: merged, never a second one.
    companies, people = reports[COMPANIES_FILE.split("/")[1]], reports[CONTACTS_FILE.split("/")[1]]
    assert companies.rows > 0 and companies.inserted == 0 and companies.matched == companies.rows
    assert people.rows > 0 and people.inserted == 0 and people.matched == people.rows
    # marketing's shorter names are reported; the CRM of record's name is kept
    renamed = [c for c in companies.conflicts if c.field == "name"]
    assert renamed and all(c.kept == "salesforce" for c in renamed)
    # The billing country is no sales region: no door disagrees over either, and every account
    # keeps both, the region from Tenure's file and the country from Salesforce.
    fields = {c.field for door in reports.values() for c in door.conflicts}
    assert fields.isdisjoint({"region", "country"}), fields
    customers = sa.select(Account.region, Account.country, Account.field_sources).where(
        Account.name.not_like("Société Nordique%")
    )
    kept = session.execute(customers).all()
    assert {(sources["region"], sources["country"]) for _, _, sources in kept} == {
        ("tenure", "salesforce")
    }
    assert {r for r, _, _ in kept} <= {"north_america", "emea", "apac", "latam"}
    assert len({c for _, c, _ in kept}) > 3
    # The product sends its workspace ids, not the CRM's: each names an account through the
    # Salesforce custom field the mapping reads, one workspace per account — but the prospect's
    # trial workspace (planted), which no Account carries yet: held.
    calls = [json.loads(line) for line in (folder / USAGE_FILE).read_text().splitlines()]
    sent = {g for c in calls if (g := c.get("context", {}).get("groupId"))}
    named = accounts_by_group_id(session, sent)
    trial = product_workspace_id("trial:Société Nordique – Oslo")
    assert len(sent) > 10 and trial in sent and set(named) == sent - {trial}
    assert all(len(g) == 24 for g in sent)
    assert len(set(named.values())) == len(sent) - 1
    external = set(session.scalars(sa.select(Account.external_id)))
    assert sent.isdisjoint(external)


def test_the_truth_stays_in_its_folder(dirty: ExportsResult) -> None:
    folder = dirty.simulation.location
    assert dirty.simulation.truth_dir == folder / "truth"
    truth = pq.read_table(folder / "truth" / "accounts.parquet")
    exported = {a["ID"] for a in _csv(folder / "salesforce" / "Account.csv", "cp1252")}
    # in the exported ids, so evaluation joins a base built from the exports
    assert truth.num_rows == 30 and set(truth["account_external_id"].to_pylist()) < exported
    renewals = pq.read_table(folder / "truth" / "renewals.parquet")
    assert any(c.startswith("sub_") for c in renewals["contract_external_id"].to_pylist())
    exported = [p for p in folder.rglob("*") if p.is_file() and "truth" not in p.parts]
    latent = ("latent", "true_cause", "true_fit")
    assert not [p for p in exported if any(word in p.read_text("latin-1") for word in latent)]
