"""`tenure simulate --out` files are what `tenure import` reads: every row imports as it is."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.ingest.importer import import_events, import_records
from tenure.ingest.request import ImportRequest
from tenure.model import Account, User
from tenure.simulate import simulate_to_files
from tenure.store.events import EventStore
from tests.simulate.conftest import tiny_config

# The order `tenure import` needs: what a row references is imported before it.
ENTITIES = (
    "accounts",
    "contacts",
    "features",
    "contracts",
    "opportunities",
    "surveys",
    "tickets",
    "touchpoints",
    "handoffs",
    "advocacy",
)


@pytest.fixture(scope="module")
def small_run(fast_dir: Path) -> Path:
    out = Path(tempfile.mkdtemp(dir=fast_dir)) / "round-trip"
    # Thirteen months: long enough for new customers handed off and a first success story.
    simulate_to_files(tiny_config(accounts=40, months=13), out)
    return out


def test_every_entity_file_imports_whole(session: Session, small_run: Path) -> None:
    # CSMs are console users, created by `tenure users create`; here straight from users.parquet.
    for user in pq.read_table(small_run / "users.parquet").to_pylist():
        session.add(User(email=user["email"], name=user["name"], role=user["role"]))
    session.flush()
    for entity in ENTITIES:
        path = small_run / f"{entity}.parquet"
        report = import_records(session, ImportRequest(entity, path))
        assert report.rows == report.inserted == pq.read_metadata(path).num_rows > 0, entity
    account = session.execute(sa.select(Account).where(Account.external_id == "acct-00000"))
    assert account.scalar_one().custom["handoff"]["required_outcome"]


def test_an_event_partition_imports_whole(small_run: Path, tmp_path: Path) -> None:
    partition = small_run / "events" / "event_date=2026-10-01" / "part-0.parquet"
    report = import_events(EventStore(tmp_path), ImportRequest("events", partition))
    assert report.inserted == pq.read_metadata(partition).num_rows > 0
