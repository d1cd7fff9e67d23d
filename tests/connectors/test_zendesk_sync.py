"""Zendesk tickets and satisfaction ratings synced through zenpy from Zendesk's API faked on HTTPS
loopback (tests/connectors/fake_zendesk.py), on SQLite and PostgreSQL: export pages of two, 429
with Retry-After then success, a ticket whose organization names no account refused with the
reason, unanswered ratings left out, a re-sync changing nothing, an updated ticket read again, a
sync cut off mid-export catching up exactly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.auth.permissions import Actor
from tenure.connectors import service
from tenure.model import Account, SurveyResponse, Ticket, UserRole
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f
from tests.connectors.fake_zendesk import FakeZendesk, HelpDesk

SECRET = "z" * 48
ACME, GLOBEX = "0015e00000Acm1AAAR", "0015e00000Glb2AAAR"


def ticket(number: int, org: int | None, status: str = "open", **extra: Any) -> dict[str, Any]:
    return {
        "id": number,
        "subject": f"Ticket {number}",
        "priority": "high" if number % 2 else None,
        "type": "incident",
        "status": status,
        "created_at": f"2026-11-0{number % 9 + 1}T09:00:00Z",
        "updated_at": f"2026-11-0{number % 9 + 1}T17:30:00Z",
        "organization_id": org,
        "requester_id": 700 + number,
        **extra,
    }


def rating(number: int, score: str, org: int, updated: str) -> dict[str, Any]:
    return {
        "id": number,
        "score": score,
        "comment": "Fast and kind" if score == "good" else "",
        "ticket_id": 35000 + number,
        "organization_id": org,
        "requester_id": 700 + number,
        "created_at": updated,
        "updated_at": updated,
    }


@pytest.fixture
def desk() -> HelpDesk:
    """Acme's organization holds its Salesforce id; Globex's too; a third (a reseller) none.
    Five tickets: three of Acme's (one solved), one of Globex's, one of the reseller's; one more
    deleted. Ratings: good and bad answers, one offered and never answered."""
    help_desk = HelpDesk()
    help_desk.organizations = {
        57: {"id": 57, "name": "Acme", "external_id": ACME},
        58: {"id": 58, "name": "Globex", "external_id": GLOBEX},
        59: {"id": 59, "name": "Reseller Ltd", "external_id": None},
    }
    for record in (
        ticket(1, 57),
        ticket(2, 57, "solved"),
        ticket(3, 58),
        ticket(4, 59),
        ticket(5, 57),
        ticket(6, 57, "deleted"),
    ):
        help_desk.put("tickets", record)
    for record in (
        rating(1, "good", 57, "2026-11-03T10:00:00Z"),
        rating(2, "bad", 58, "2026-11-04T10:00:00Z"),
        rating(3, "offered", 57, "2026-11-05T10:00:00Z"),
    ):
        help_desk.put("ratings", record)
    return help_desk


@pytest.fixture
def fake(desk: HelpDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZendesk]:
    server = FakeZendesk(desk, tmp_path, page_size=2)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    yield server
    server.stop()


def connect(database_url: str, fake: FakeZendesk) -> sa.Engine:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        admin = f.user(session, email="admin@acme-cs.com", role=UserRole.admin)
        f.account(session, external_id=ACME, name="Acme")
        f.account(session, external_id=GLOBEX, name="Globex")
        service.connect(
            session,
            Actor(admin, "cli"),
            SECRET,
            "zendesk",
            secrets={"email": fake.desk.email, "api_token": fake.desk.api_token},
            base_url=fake.url,
        )
    return engine


def sync(engine: sa.Engine, data_dir: Path) -> Any:
    (run,) = service.sync_all(session_factory(engine), SECRET, data_dir, vendors=["zendesk"])
    return run


def stored(engine: sa.Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        tickets = conn.execute(
            sa.select(Ticket.external_id, Account.external_id, Ticket.priority, Ticket.closed_at)
            .join(Account, Account.id == Ticket.account_id)
            .order_by(Ticket.external_id)
        ).all()
        ratings = conn.execute(
            sa.select(
                SurveyResponse.external_id, SurveyResponse.kind, SurveyResponse.score
            ).order_by(SurveyResponse.external_id)
        ).all()
    return [tuple(t) for t in tickets], [tuple(r) for r in ratings]


def test_tickets_and_csat_sync_incrementally(
    database_url: str, fake: FakeZendesk, data_dir: Path
) -> None:
    engine = connect(database_url, fake)
    fake.faults.append(("/api/v2/incremental/tickets", 429, "1"))
    run = sync(engine, data_dir)
    assert run.status == "partial"  # the reseller's ticket has no account
    tickets, ratings = run.objects["tickets"], run.objects["satisfaction_ratings"]
    # Three pages, then the refused ticket tried once more after the last (a parent read later
    # may have come in): four batches, still one refused.
    assert (tickets.read, tickets.inserted, tickets.rejected, tickets.batches) == (5, 4, 1, 4)
    assert tickets.rejects == ['Ticket "Ticket 4" (4): no organization\'s CRM account id']
    assert (ratings.read, ratings.inserted, ratings.rejected) == (2, 2, 0)
    found_tickets, found_ratings = stored(engine)
    solved = datetime(2026, 11, 3, 17, 30, tzinfo=UTC)
    assert [(t[0], t[1], str(t[2])) for t in found_tickets] == [
        ("1", ACME, "high"),
        ("2", ACME, "normal"),
        ("3", GLOBEX, "high"),
        ("5", ACME, "high"),
    ]
    closed = {t[0]: t[3] for t in found_tickets}
    assert closed["1"] is None and closed["2"] is not None
    assert closed["2"].replace(tzinfo=UTC) == solved
    assert [(r[0], str(r[1]), r[2]) for r in found_ratings] == [("1", "csat", 5), ("2", "csat", 1)]
    # 429 then success: the export was asked twice for its first page.
    assert fake.calls.count("GET /api/v2/incremental/tickets/cursor.json") == 4

    again = sync(engine, data_dir)
    assert again.objects["tickets"].read == 0
    assert again.objects["satisfaction_ratings"].inserted == 0
    assert stored(engine) == (found_tickets, found_ratings)

    fake.desk.put("tickets", ticket(5, 57, "closed"))
    updated = sync(engine, data_dir)
    assert (updated.objects["tickets"].read, updated.objects["tickets"].updated) == (1, 1)
    engine.dispose()


def test_a_sync_cut_off_mid_export_catches_up_exactly(
    database_url: str, fake: FakeZendesk, data_dir: Path
) -> None:
    engine = connect(database_url, fake)
    pages = []

    def cut_off(path: str) -> None:
        # The second page is answered 400 (never retried): the sync stops after the first.
        if path.startswith("/api/v2/incremental/tickets"):
            pages.append(path)
            if len(pages) == 2:
                fake.faults.append(("/api/v2/incremental/tickets", 400, None))

    fake.on_request = cut_off
    first = sync(engine, data_dir)
    assert first.objects["tickets"].error is not None
    assert first.objects["tickets"].inserted == 2  # the first page, stored with its cursor
    assert first.objects["satisfaction_ratings"].error is None  # the next object still synced
    fake.on_request = None
    second = sync(engine, data_dir)
    assert second.objects["tickets"].inserted == 2 and second.objects["tickets"].updated == 0
    assert [t[0] for t in stored(engine)[0]] == ["1", "2", "3", "5"]
    engine.dispose()


@pytest.mark.slow
def test_a_sync_killed_mid_export_catches_up_exactly(
    fake: FakeZendesk, migrated_template: Any, backend: str, tmp_path: Path
) -> None:
    from tests.connectors.processes import SRC, run_statuses, sync_killed_at, tenure

    url = migrated_template(backend)
    engine = create_engine(url)
    with session_scope(session_factory(engine)) as session:
        f.account(session, external_id=ACME, name="Acme")
        f.account(session, external_id=GLOBEX, name="Globex")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TENURE_DATABASE_URL": url,
        "TENURE_DATA_DIR": str(tmp_path / "data"),
        "TENURE_SECRET_KEY": SECRET,
        "REQUESTS_CA_BUNDLE": str(fake.cert),
        "TENURE_ZENDESK_EMAIL": fake.desk.email,
        "TENURE_ZENDESK_API_TOKEN": fake.desk.api_token,
    }
    tenure(env, "connect", "zendesk", "--url", fake.url)
    # The first page (tickets 1 and 2) is stored; the process dies asking for the second.
    sync_killed_at(env, fake, lambda path: path.startswith("/api/v2/incremental/"), nth=2)
    assert [t[0] for t in stored(engine)[0]] == ["1", "2"]
    tenure(env, "connect", "sync")
    assert [t[0] for t in stored(engine)[0]] == ["1", "2", "3", "5"]
    assert len(stored(engine)[1]) == 2
    # partial: the reseller's ticket has no account
    assert run_statuses(url) == ["interrupted", "partial"]
    engine.dispose()
