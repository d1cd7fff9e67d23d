"""`tenure connect stripe` then `tenure run daily` against the fake, in processes of their own:
the accounts and contracts equal those the same Stripe account gives through file imports of its
customers and subscriptions as JSON lines, record by record; a sync killed mid-way catches up
exactly on the next run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.model import Account, Contract
from tests.connectors.fake_stripe import FakeStripe
from tests.connectors.processes import SRC, read_book, run_statuses, sync_killed_at, tenure

pytestmark = pytest.mark.slow


def environment(database_url: str, data_dir: Path, fake: FakeStripe) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "s" * 48,
        "TENURE_STRIPE_API_KEY": fake.account.api_key,
    }


def book(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every account and contract field a sync or an import writes, by external id."""
    queries = {
        "accounts": sa.select(
            Account.external_id, Account.name, Account.custom, Account.created_on
        ).order_by(Account.external_id),
        "contracts": sa.select(
            Contract.external_id,
            Account.external_id,
            Contract.plan,
            Contract.billing_period,
            Contract.starts_on,
            Contract.ends_on,
            Contract.auto_renews,
            Contract.licensed_seats,
            Contract.discount,
            Contract.arr,
            Contract.currency,
            Contract.status,
            Contract.payment_overdue,
            Contract.outcome_on,
            Contract.renewal_outcome,
            Contract.notice_on,
        )
        .join(Account, Account.id == Contract.account_id)
        .order_by(Contract.external_id),
    }
    return read_book(database_url, queries)


def test_connect_and_daily_run_equal_a_file_import(
    fake_stripe: FakeStripe, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    synced_url, imported_url = migrated_template(backend), migrated_template(backend)
    env = environment(synced_url, tmp_path / "synced", fake_stripe)
    connected = tenure(env, "connect", "stripe", "--url", fake_stripe.url)
    assert "Stripe answered: credentials accepted" in connected.stdout
    assert fake_stripe.account.api_key not in connected.stdout + connected.stderr
    daily = tenure(env, "run", "daily", "--as-of", "2026-12-06", "--no-send", "--json", check=False)
    assert '"name": "sync"' in daily.stdout and '"stripe_read": 10' in daily.stdout, daily.stdout
    assert '"stripe_refused": 1' in daily.stdout  # the two-price subscription

    account = fake_stripe.account
    files = environment(imported_url, tmp_path / "imported", fake_stripe)
    for entity, kind, mapping in (
        ("accounts", "customers", "stripe-customers"),
        ("contracts", "subscriptions", "stripe-subscriptions"),
    ):
        path = account.jsonl(kind, tmp_path / f"{kind}.jsonl")
        tenure(files, "import", entity, str(path), "--mapping", mapping, "--skip-invalid")

    synced, imported = book(synced_url), book(imported_url)
    assert [len(synced[k]) for k in ("accounts", "contracts")] == [3, 6]
    assert synced == imported

    status = tenure(env, "connect", "status")
    assert "partial: 10 records read" in status.stdout


def test_a_sync_killed_midway_catches_up_exactly(
    fake_stripe: FakeStripe, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    url = migrated_template(backend)
    env = environment(url, tmp_path / "data", fake_stripe)
    tenure(env, "connect", "stripe", "--url", fake_stripe.url, "--no-check")
    # Customers and the first page of subscriptions are stored; the sync dies asking for the
    # second page. Lists come newest first, so the cursor had not moved: all is read again.
    sync_killed_at(env, fake_stripe, lambda path: path == "/v1/subscriptions", nth=2)
    # the first page: the two newest, of which the two-price one is refused
    assert [len(book(url)[kind]) for kind in ("accounts", "contracts")] == [3, 1]

    caught_up = tenure(env, "connect", "sync", "--json")
    assert '"status": "partial"' in caught_up.stdout  # the two-price subscription, as before
    assert len(book(url)["contracts"]) == 6
    assert run_statuses(url) == ["interrupted", "partial"]
