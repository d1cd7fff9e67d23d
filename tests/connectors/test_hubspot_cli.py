"""`tenure connect hubspot` then `tenure run daily` against the fake, in processes of their own:
the book equals the one the same portal gives through file imports (owners and deals as the API's
JSON lines, companies and contacts as exports by internal property name), record by record; a
sync killed mid-way catches up exactly on the next run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.model import Account, Contact, Opportunity, User
from tests.connectors.fake_hubspot import FakeHubSpot
from tests.connectors.hubspot_portal import COMPANY_COLUMNS, CONTACT_COLUMNS
from tests.connectors.processes import SRC, read_book, run_statuses, sync_killed_at, tenure

pytestmark = pytest.mark.slow

CONTACT_SEARCH = "/crm/v3/objects/contacts/search"


def environment(database_url: str, data_dir: Path, fake: FakeHubSpot) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "s" * 48,
        "SSL_CERT_FILE": str(fake.cert),
        "TENURE_HUBSPOT_ACCESS_TOKEN": fake.portal.access_token,
    }


def book(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every user, account, contact and deal field a sync or an import writes, by external id."""
    parent = sa.orm.aliased(Account)
    queries = {
        "users": sa.select(User.external_id, User.email, User.name, User.is_active)
        .where(User.external_id.is_not(None))
        .order_by(User.external_id),
        "accounts": sa.select(
            Account.external_id,
            Account.name,
            parent.external_id,
            Account.industry,
            Account.employee_count,
            Account.country,
            Account.custom,
            Account.created_on,
            User.external_id,
        )
        .outerjoin(parent, parent.id == Account.parent_id)
        .outerjoin(User, User.id == Account.owner_id)
        .order_by(Account.external_id),
        "contacts": sa.select(
            Contact.external_id,
            Account.external_id,
            Contact.name,
            Contact.email,
            Contact.title,
            Contact.roles,
            Contact.phone,
            Contact.email_opt_out,
            Contact.left_on,
        )
        .outerjoin(Account, Account.id == Contact.account_id)
        .order_by(Contact.external_id),
        "deals": sa.select(
            Opportunity.external_id,
            Account.external_id,
            Opportunity.name,
            Opportunity.kind,
            Opportunity.stage,
            Opportunity.amount,
            Opportunity.currency,
            Opportunity.probability,
            Opportunity.forecast_category,
            Opportunity.status,
            Opportunity.close_on,
            Opportunity.close_reason,
            Opportunity.opened_on,
            Opportunity.description,
        )
        .join(Account, Account.id == Opportunity.account_id)
        .order_by(Opportunity.external_id),
    }
    return read_book(database_url, queries)


def test_connect_and_daily_run_equal_a_file_import(
    fake_hubspot: FakeHubSpot, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    synced_url, imported_url = migrated_template(backend), migrated_template(backend)
    env = environment(synced_url, tmp_path / "synced", fake_hubspot)
    connected = tenure(env, "connect", "hubspot", "--url", fake_hubspot.url)
    assert "HubSpot answered: credentials accepted" in connected.stdout
    assert fake_hubspot.portal.access_token not in connected.stdout + connected.stderr
    daily = tenure(env, "run", "daily", "--as-of", "2026-12-06", "--no-send", "--json", check=False)
    assert '"name": "sync"' in daily.stdout and '"hubspot_read": 13' in daily.stdout, daily.stdout
    assert '"hubspot_refused": 1' in daily.stdout  # the deal without a company

    portal = fake_hubspot.portal
    files = environment(imported_url, tmp_path / "imported", fake_hubspot)
    imports = (
        ("users", portal.owners_jsonl(tmp_path / "owners.jsonl"), "hubspot-owners"),
        (
            "accounts",
            portal.properties_csv("companies", COMPANY_COLUMNS, tmp_path / "companies.csv"),
            "hubspot-companies-with-owners",
        ),
        (
            "contacts",
            portal.properties_csv("contacts", CONTACT_COLUMNS, tmp_path / "contacts.csv"),
            "hubspot-contacts",
        ),
        ("opportunities", portal.deals_jsonl(tmp_path / "deals.jsonl"), "hubspot-deals"),
    )
    for entity, path, mapping in imports:
        tenure(files, "import", entity, str(path), "--mapping", mapping, "--skip-invalid")

    synced, imported = book(synced_url), book(imported_url)
    assert [len(synced[k]) for k in ("users", "accounts", "contacts", "deals")] == [2, 4, 4, 2]
    assert synced == imported

    status = tenure(env, "connect", "status")
    assert "partial: 13 records read" in status.stdout
    turned = tenure(
        env,
        "connect",
        "write-back",
        "--to",
        "hubspot",
        "--health-field",
        "tenure_health",
        "--tasks",
    )
    assert (
        "After each daily run HubSpot gets: health score → tenure_health; closed CTAs → Tasks."
        in " ".join(turned.stdout.split())
    )


def test_a_sync_killed_midway_catches_up_exactly(
    fake_hubspot: FakeHubSpot, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    url = migrated_template(backend)
    env = environment(url, tmp_path / "data", fake_hubspot)
    tenure(env, "connect", "hubspot", "--url", fake_hubspot.url, "--no-check")
    # Owners, companies and the first page of contacts are stored; the sync dies asking for
    # the second page of contacts.
    sync_killed_at(env, fake_hubspot, lambda path: path == CONTACT_SEARCH, nth=2)
    assert [len(book(url)[kind]) for kind in ("accounts", "contacts")] == [4, 2]

    caught_up = tenure(env, "connect", "sync", "--json")
    assert '"status": "partial"' in caught_up.stdout  # the company-less deal, as before
    assert len(book(url)["contacts"]) == 4 and len(book(url)["deals"]) == 2
    assert run_statuses(url) == ["interrupted", "partial"]
