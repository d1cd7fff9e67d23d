"""`tenure connect salesforce …` then `tenure run daily` against the fake, in processes of their
own: the portfolio equals the one the same org gives through a Data Loader file import, record by
record; a sync killed mid-way catches up exactly on the next run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.model import Account, Contact, User
from tenure.store.database import create_engine
from tests.connectors.fake_salesforce import FakeSalesforce
from tests.connectors.processes import SRC, run_statuses, sync_killed_at, tenure
from tests.connectors.salesforce_org import data_loader_extract

pytestmark = pytest.mark.slow

# nextRecordsUrl: the query's later pages
NEXT_PAGE = "/services/data/v60.0/query/01g"


def environment(database_url: str, data_dir: Path, fake: FakeSalesforce) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "s" * 48,
        "REQUESTS_CA_BUNDLE": str(fake.cert),
        "TENURE_SALESFORCE_CLIENT_ID": fake.org.client_id,
        "TENURE_SALESFORCE_CLIENT_SECRET": fake.org.client_secret,
        "TENURE_SALESFORCE_REFRESH_TOKEN": fake.org.refresh_token,
    }


def book(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every account and contact field a sync or an import writes, by external id."""
    engine = create_engine(database_url)
    parent = sa.orm.aliased(Account)
    try:
        with engine.connect() as connection:
            accounts = connection.execute(
                sa.select(
                    Account.external_id,
                    Account.name,
                    parent.external_id,
                    Account.industry,
                    Account.employee_count,
                    Account.country,
                    Account.custom,
                    Account.created_on,
                    User.email,
                )
                .outerjoin(parent, parent.id == Account.parent_id)
                .outerjoin(User, User.id == Account.owner_id)
                .order_by(Account.external_id)
            )
            contacts = connection.execute(
                sa.select(
                    Contact.external_id,
                    Account.external_id,
                    Contact.name,
                    Contact.email,
                    Contact.title,
                    Contact.left_on,
                )
                .outerjoin(Account, Account.id == Contact.account_id)
                .order_by(Contact.external_id)
            )
            return {
                "accounts": [tuple(r) for r in accounts],
                "contacts": [tuple(r) for r in contacts],
            }
    finally:
        engine.dispose()


def test_connect_and_daily_run_equal_a_file_import(
    fake_salesforce: FakeSalesforce, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    synced_url, imported_url = migrated_template(backend), migrated_template(backend)
    env = environment(synced_url, tmp_path / "synced", fake_salesforce)
    connected = tenure(env, "connect", "salesforce", "--url", fake_salesforce.url)
    assert "credentials accepted; 14999 of 15000 daily API requests left" in connected.stdout
    assert fake_salesforce.org.client_secret not in connected.stdout + connected.stderr
    daily = tenure(env, "run", "daily", "--as-of", "2026-12-06", "--no-send", "--json", check=False)
    assert '"name": "sync"' in daily.stdout and '"salesforce_read": 9' in daily.stdout, daily.stdout

    files = environment(imported_url, tmp_path / "imported", fake_salesforce)
    for obj, entity in (("User", "users"), ("Account", "accounts"), ("Contact", "contacts")):
        extract = data_loader_extract(fake_salesforce.org, obj, tmp_path / f"{obj}.csv")
        tenure(files, "import", entity, str(extract), "--mapping", f"salesforce-{entity}")

    synced, imported = book(synced_url), book(imported_url)
    assert len(synced["accounts"]) == 4 and len(synced["contacts"]) == 4
    assert {row[-1] for row in synced["accounts"]} == {"maya.lind@example.com"}
    assert synced == imported

    status = tenure(env, "connect", "status")
    assert "succeeded: 9 records read" in status.stdout


def test_a_sync_killed_midway_catches_up_exactly(
    fake_salesforce: FakeSalesforce, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    url = migrated_template(backend)
    env = environment(url, tmp_path / "data", fake_salesforce)
    tenure(env, "connect", "salesforce", "--url", fake_salesforce.url, "--no-check")
    # Accounts are stored (two pages) and the first page of contacts; the sync dies asking for
    # the second page of contacts.
    sync_killed_at(env, fake_salesforce, lambda path: path.startswith(NEXT_PAGE), nth=2)
    assert [len(book(url)[kind]) for kind in ("accounts", "contacts")] == [4, 2]

    caught_up = tenure(env, "connect", "sync", "--json")
    assert '"status": "succeeded"' in caught_up.stdout
    assert len(book(url)["contacts"]) == 4
    assert run_statuses(url) == ["interrupted", "succeeded"]
