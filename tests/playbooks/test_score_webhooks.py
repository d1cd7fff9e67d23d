"""health.changed and risk.raised from real daily runs to a real HTTP receiver on loopback:
signed payloads naming the account and the values, one event id per account and day, and one
event per change — a re-run day or an unchanged band sends nothing."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.jobs.daily import run_daily
from tenure.model import Account, ChurnRiskScore, Contract, HealthScore
from tenure.playbooks import webhooks
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.rules import load_ruleset
from tenure.risk.service import fit_and_save
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import EventStore, events_table_from_rows
from tests.playbooks.conftest import Receiver
from tests.risk.factories import CustomerBase, customer_base

# Two months apart, so usage has moved enough to change some health bands; then the next day.
FIRST, SECOND = date(2025, 10, 1), date(2025, 12, 1)
THIRD = SECOND + timedelta(days=1)


@pytest.fixture(scope="module")
def base() -> CustomerBase:
    return customer_base(accounts=60, months=30, seed=11)


@pytest.fixture(scope="module")
def store(base: CustomerBase, tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    events = EventStore(tmp_path_factory.mktemp("events"))
    events.write_parquet(events_table_from_rows(base.events))
    return events


def received(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every payload the receiver got, after checking its signature and headers."""
    payloads = []
    for headers, body in receiver.received:
        assert webhooks.verify_signature(
            secret,
            body,
            headers["X-Tenure-Timestamp"],
            headers["X-Tenure-Signature"],
            now=time.time(),
        )
        payload = json.loads(body)
        assert headers["X-Tenure-Event-Id"] == payload["id"]
        assert headers["X-Tenure-Event"] == payload["type"]
        payloads.append(payload)
    return payloads


def bands(engine: sa.Engine, day: date) -> dict[int, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(HealthScore.account_id, HealthScore.band, HealthScore.score).where(
                HealthScore.as_of == day
            )
        )
        return {account: (band, score) for account, band, score in rows}


def alerted(engine: sa.Engine, day: date) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.scalars(
                sa.select(ChurnRiskScore.account_id).where(
                    ChurnRiskScore.as_of == day, ChurnRiskScore.in_alert_set
                )
            )
        )


@pytest.mark.slow
def test_health_changed_and_risk_raised_once_per_change(
    database_url: str,
    data_dir: Path,
    store: EventStore,
    base: CustomerBase,
    receiver: Receiver,
) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        session.add_all(Account(**row) for row in base.accounts)
        session.flush()
        session.add_all(
            Contract(**{k: v for k, v in row.items() if k != "id"}) for row in base.contracts
        )
        session.flush()
        fit_and_save(
            session,
            store,
            data_dir,
            base.end,
            horizon_days=180,
            model_name="logistic",
            metrics=["license_utilization", "usage_trend", "days_since_last_activity"],
            every_weeks=6,
        )
        secret = webhooks.create_endpoint(
            session, receiver.url, ["health.changed", "risk.raised"]
        ).secret
    names = {row["id"]: row["name"] for row in base.accounts}
    rules, settings = load_ruleset(), PlaybookSettings()

    def day(as_of: date, *, force: bool = False) -> list[dict[str, Any]]:
        """The events the receiver got from the daily run of ``as_of``."""
        before = len(receiver.received)
        result = run_daily(
            engine,
            as_of,
            rules,
            settings,
            poster=webhooks.HttpPoster(),
            store=store,
            data_dir=data_dir,
            force=force,
        )
        assert result.run.status == "succeeded", result.run.errors
        return received(receiver, secret)[before:]

    first = day(FIRST)
    # The first scores have nothing to change from; every account in the first alert set is
    # raised (it was not in one before).
    assert {e["type"] for e in first} == {"risk.raised"}
    assert {e["data"]["account"]["id"] for e in first} == alerted(engine, FIRST)

    second = day(SECOND)
    was, now = bands(engine, FIRST), bands(engine, SECOND)
    changed = {a for a in now if a in was and was[a][0] != now[a][0]}
    health = [e for e in second if e["type"] == "health.changed"]
    assert changed and {e["data"]["account"]["id"] for e in health} == changed
    for event in health:
        data, account = event["data"], event["data"]["account"]["id"]
        assert event["id"] == f"evt_health_{account}_{SECOND}"
        assert (data["previous_band"], data["previous_score"]) == was[account]
        assert (data["band"], data["score"]) == now[account]
        assert data["as_of"] == SECOND.isoformat() and data["account"]["name"] == names[account]
        assert data["summary"] == (
            f"Health of {names[account]}: {was[account][0]} → {now[account][0]} "
            f"({was[account][1]} → {now[account][1]})"
        )
    raised = [e for e in second if e["type"] == "risk.raised"]
    newly_alerted = alerted(engine, SECOND) - alerted(engine, FIRST)
    assert newly_alerted and {e["data"]["account"]["id"] for e in raised} == newly_alerted
    with engine.connect() as conn:
        stored = {
            s.account_id: s
            for s in conn.execute(sa.select(ChurnRiskScore).where(ChurnRiskScore.as_of == SECOND))
        }
    for event in raised:
        data, account = event["data"], event["data"]["account"]["id"]
        assert event["id"] == f"evt_risk_{account}_{SECOND}"
        assert data["probability"] == pytest.approx(stored[account].probability, rel=1e-9)
        assert data["model_version"] == stored[account].model_version
        assert data["arr_at_risk"] == pytest.approx(stored[account].arr_at_risk, rel=1e-9)
        assert data["reasons"] and data["currency"] == "USD"
    assert len({e["id"] for e in second}) == len(second)  # one event per account and change

    assert day(SECOND, force=True) == []  # the same day again: nothing sent twice
    third = day(THIRD)
    was, now = now, bands(engine, THIRD)
    changed = {a for a in now if a in was and was[a][0] != now[a][0]}
    assert {e["data"]["account"]["id"] for e in third if e["type"] == "health.changed"} == changed
    still = alerted(engine, THIRD) & alerted(engine, SECOND)
    assert still and not still & {
        e["data"]["account"]["id"] for e in third if e["type"] == "risk.raised"
    }  # an account that stays in the alert set is not raised again
    engine.dispose()
