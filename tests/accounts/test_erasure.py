"""Erasing a person: afterwards no table, column or data-dir file holds their e-mail, while the
aggregates (event counts, active users, NPS) are what they were."""

from __future__ import annotations

import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.errors import Forbidden
from tenure.model import (
    Account,
    AuditLog,
    IdentityAlias,
    ImportRun,
    OutboxMessage,
    SurveyKind,
    SurveyLink,
    SurveyResponse,
    Touchpoint,
    UserRole,
    WebhookDelivery,
    WebhookEndpoint,
)
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, events_table_from_rows, open_event_store
from tenure.store.events.inbox import Quarantined
from tests import factories as f

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EMAIL = "Ann.Lee@acme.example"
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _event(message_id: str, **values: object) -> dict[str, object]:
    return {
        "message_id": message_id,
        "source": "web",
        "type": "track",
        "account_id": "acme",
        "event": "report_run",
        "timestamp": AT,
        "received_at": AT,
        **values,
    }


def populate(database_url: str, store: EventStore) -> None:
    """Ann everywhere a person leaves a trace, and Bob beside her (he must stay)."""
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        acme = f.account(session, external_id="acme")
        ann = f.contact(session, acme, external_id="003ANN", email=EMAIL, roles=["champion"])
        ann.name, ann.phone, ann.description = "Ann Lee", "+1 555 0100", "Met at the summit"
        bob = f.contact(session, acme, external_id="003BOB", email="bob@acme.example")
        bob.reports_to_id = ann.id
        meeting = Touchpoint(
            external_id="t1", account_id=acme.id, occurred_at=AT, attendees=[ann, bob]
        )
        session.add(meeting)
        session.add_all(
            [
                SurveyResponse(
                    external_id="nps-ann",
                    account_id=acme.id,
                    contact_id=ann.id,
                    kind=SurveyKind.nps,
                    score=9,
                    comment="Ann here: love it, write to ann.lee@acme.example",
                    responded_at=AT,
                ),
                OutboxMessage(
                    message_id="<m1@tenure>",
                    kind="survey",
                    goal="Hear how Ann Lee rates us",
                    sender="cs@vendor.example",
                    recipient=EMAIL.lower(),
                    subject="How likely…",
                    body="Hello Ann Lee",
                    next_attempt_at=AT,
                ),
                IdentityAlias(previous_id="anon-7", user_id="003ANN", source="web", aliased_at=AT),
                ImportRun(
                    entity="contacts",
                    file_name="Contact.csv",
                    status="rejected",
                    errors=[{"line": 4, "column": "Email", "value": EMAIL, "reason": "dup"}],
                    started_at=AT,
                ),
            ]
        )
        session.flush()
        from tenure.model import SurveyCampaign

        campaign = SurveyCampaign(name="q1", kind=SurveyKind.nps, question="?", audience={})
        session.add(campaign)
        session.flush()
        session.add(
            SurveyLink(
                campaign_id=campaign.id,
                contact_id=ann.id,
                account_id=acme.id,
                nonce="n",
                sent_at=AT,
            )
        )
        endpoint = WebhookEndpoint(url="https://hooks.example/x", secret="s", events=["*"])
        session.add(endpoint)
        session.flush()
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id="e1",
                event_type="survey.responded",
                payload={"contact_id": ann.id, "comment": "love it", "score": 9},
                next_attempt_at=AT,
            )
        )
    engine.dispose()
    # Her identify (traits), her usage, her anonymous page view before signing up, Bob's usage
    # mentioning her: some compacted into Parquet, some still in the inbox.
    store.write_parquet(
        events_table_from_rows(
            [
                _event(
                    "i1",
                    type="identify",
                    event="",
                    user_id="003ANN",
                    properties=f'{{"email": "{EMAIL}", "name": "Ann Lee"}}',
                ),
                _event("e1", user_id="003ANN"),
                _event("e2", anonymous_id="anon-7", type="page", event="pricing"),
                _event("e3", user_id="003BOB", properties=f'{{"shared_with": "{EMAIL}"}}'),
            ]
        )
    )
    store.append([_event("e4", user_id="003ANN"), _event("e5", user_id="003BOB")])
    store.quarantine(
        [Quarantined("web", "bad timestamp", f'{{"userId": "003ANN", "email": "{EMAIL}"}}', AT)]
    )


def traces(database_url: str, data_dir: Path, needles: list[str]) -> list[str]:
    """Where any needle (any case) still is: every row of every table (events included), every
    file under the data dir (the SQLite database and its WAL, the inbox, Parquet…)."""
    found = []
    engine = create_engine(database_url)
    inspector = sa.inspect(engine)
    schemas = [None, *(["tenure_events"] if engine.dialect.name == "postgresql" else [])]
    with engine.connect() as conn:
        for schema in schemas:
            for table in inspector.get_table_names(schema=schema):
                name = f"{schema}.{table}" if schema else table
                for row in conn.execute(sa.text(f"SELECT * FROM {name}")):
                    text = repr(tuple(row)).lower()
                    found += [f"{name}: {n}" for n in needles if n.lower() in text]
    engine.dispose()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes().lower()
        found += [
            f"{path.name}: {n}"
            for n in needles
            if n.lower().encode() in content or n.lower().encode("utf-16-le") in content
        ]
    return found


def usage(store: EventStore) -> tuple[int, int]:
    con = store.connect()
    try:
        events = store.table(con)
        row = (
            events.aggregate(n=events.count(), users=events.user_id.nunique())
            .to_pyarrow()
            .to_pylist()[0]
        )
    finally:
        con.disconnect()
    return row["n"], row["users"]


@pytest.fixture
def setting(backend: str, database_url: str, data_dir: Path) -> tuple[str, dict[str, str]]:
    """The database inside the data dir on SQLite (where a deployment keeps it)."""
    if backend == "sqlite":
        inside = data_dir / "tenure.db"
        shutil.move(database_url.removeprefix("sqlite:///"), inside)
        database_url = f"sqlite:///{inside}"
    return database_url, {"TENURE_DATABASE_URL": database_url, "TENURE_DATA_DIR": str(data_dir)}


def test_an_erasure_leaves_no_trace_and_keeps_the_aggregates(
    setting: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    database_url, env = setting
    store = open_event_store(Settings(database_url=database_url, data_dir=data_dir))
    populate(database_url, store)
    before = usage(store)
    assert before == (5, 2)  # e1, e2, e3, e4, e5 (identify is not usage); 003ANN and 003BOB
    needles = [EMAIL, "Ann Lee", "003ANN", "anon-7", "+1 555 0100", "write to"]
    assert len(traces(database_url, data_dir, needles)) > 10

    result = CliRunner().invoke(app, ["contacts", "erase", EMAIL.upper(), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "erased: 1 contact(s), 5 events pseudonymised, 1 survey answers unlinked" in (
        " ".join(result.stdout.split())
    )

    assert traces(database_url, data_dir, needles) == []
    # Her usage stays, as one anonymous user's: the counts do not move.
    assert usage(store) == before
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(SurveyResponse.score, SurveyResponse.contact_id)).all() == [
            (9, None)
        ]
        assert conn.execute(sa.select(sa.func.count()).select_from(Touchpoint)).scalar() == 1
        assert conn.execute(sa.select(Account.external_id)).scalars().all() == ["acme"]
        entry = conn.execute(
            sa.select(AuditLog.action, AuditLog.entity_id, AuditLog.after).where(
                AuditLog.action == "person.erased"
            )
        ).one()
    engine.dispose()
    assert entry.entity_id is None and entry.after["contacts"] == 1
    store.close()


def test_erasure_is_for_admins_and_the_api_route_is_thin(
    setting: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    from tenure.server import create_app
    from tests.web.factories import token_headers

    database_url, _ = setting
    settings = Settings(
        database_url=database_url, data_dir=data_dir, secret_key="erasure-test-secret-32-characters"
    )
    store = open_event_store(settings)
    populate(database_url, store)
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        csm = token_headers(session, f.user(session, email="csm@vendor.example"))
        admin = token_headers(
            session, f.user(session, email="admin@vendor.example", role=UserRole.admin)
        )
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        refused = client.post("/api/v1/erasures", json={"person": EMAIL}, headers=csm)
        assert refused.status_code == 403
        done = client.post("/api/v1/erasures", json={"person": "003ANN"}, headers=admin)
        assert done.status_code == 200, done.text
        assert done.json()["contacts"] == 1 and done.json()["outbox_messages"] == 1
        missing = client.post("/api/v1/erasures", json={"person": "nobody-here"}, headers=admin)
        assert missing.status_code == 404
    assert traces(database_url, data_dir, [EMAIL, "003ANN"]) == []
    store.close()


def test_the_service_refuses_a_non_admin(session: sa.orm.Session, data_dir: Path) -> None:
    from tenure.accounts.erasure import erase_person
    from tenure.auth.permissions import Actor

    csm = f.user(session, email="csm@vendor.example")
    with pytest.raises(Forbidden):
        erase_person(session, EventStore(data_dir), EMAIL, Actor(csm, "api"))
