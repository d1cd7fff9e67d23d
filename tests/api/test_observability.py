"""Health, readiness, Prometheus metrics and request ids (issue 16.16), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.logs import JsonFormatter
from tenure.model import DailyRun
from tenure.server import create_app
from tenure.store.database import create_engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient

LOCAL = ("127.0.0.1", 50000)


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=data_dir)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=LOCAL) as local:
        yield local


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_healthz_answers_without_the_database(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.engine.dispose()
        app.state.engine = None  # any database touch would raise
        answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_names_each_check(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    names = {c["name"]: c["ok"] for c in answer.json()["checks"]}
    assert names["database"] and names["data_dir"]
    assert "inbox" in names or client.app.state.event_store.is_postgres  # type: ignore[attr-defined]


def test_readyz_is_503_naming_the_data_dir_that_cannot_be_written(
    client: TestClient, settings: Settings
) -> None:
    # Tests run as root, who ignores folder modes: a folder under a plain file cannot exist.
    blocker = settings.data_dir / "not-a-folder"
    blocker.write_text("")
    client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"data_dir": blocker / "data"}
    )
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == "not_ready" and body["message"].startswith("not ready: data_dir (")
    assert [c["name"] for c in body["checks"] if not c["ok"]] == ["data_dir"]


def test_readyz_is_503_when_the_database_is_gone(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        blocker = settings.data_dir / "not-a-folder"
        blocker.write_text("")
        app.state.engine = sa.create_engine(f"sqlite:///{blocker / 'tenure.db'}")
        answer = client.get("/readyz")
    assert answer.status_code == 503
    failing = [c["name"] for c in answer.json()["checks"] if not c["ok"]]
    assert failing == ["database"]


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0
    # An id that would break a log line is replaced, not logged.
    replaced = client.get("/healthz", headers={"X-Request-ID": "a b\tc"}).headers["x-request-id"]
    assert replaced != "a b\tc" and len(replaced) == 32


def test_access_log_lines_are_json_with_the_request_id(client: TestClient) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("tenure.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        client.get("/api/v1/accounts/1", headers={"X-Request-ID": "req-42"})
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    line = json.loads(lines.getvalue().splitlines()[-1])
    assert line["request_id"] == "req-42" and line["logger"] == "tenure.access"
    assert line["route"] == "/api/v1/accounts/{account_id}" and line["status"] == 401
    assert line["message"] == "GET /api/v1/accounts/1 401" and line["duration_ms"] >= 0


def test_metrics_count_requests_by_route_template_and_status(client: TestClient) -> None:
    before = samples(client.get("/metrics").text)
    for account in (1, 2, 3):
        client.get(f"/api/v1/accounts/{account}")
    client.get("/no/such/page")
    after = samples(client.get("/metrics").text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    route = "/api/v1/accounts/{account_id}"
    assert grew("tenure_http_requests_total", method="GET", route=route, status="401") == 3
    assert grew("tenure_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert grew("tenure_http_request_duration_seconds_count", method="GET", route=route) == 3


def test_metrics_report_the_stores(client: TestClient, settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    with Session(engine) as session:
        session.add(
            DailyRun(
                as_of=date(2026, 3, 2),
                status="failed",
                started_at=datetime(2026, 3, 2, 1, tzinfo=UTC),
            )
        )
        session.commit()
    engine.dispose()
    found = samples(client.get("/metrics").text)
    assert found[("tenure_daily_run_last_status", (("status", "failed"),))] == 1
    as_of = found[("tenure_daily_run_last_as_of_timestamp_seconds", ())]
    assert as_of == datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    assert found[("tenure_inbox_pending_events", ())] == 0
    assert found[("tenure_compaction_lag_seconds", ())] == 0


def test_ingest_outcomes_and_lag_are_counted(client: TestClient, settings: Settings) -> None:
    from typer.testing import CliRunner

    from tenure.cli.main import app as cli

    env = {
        "TENURE_DATA_DIR": str(settings.data_dir),
        "TENURE_DATABASE_URL": str(settings.database_url),
    }
    write_key = CliRunner().invoke(cli, ["sources", "create", "web"], env=env).output.split()[-1]
    before = samples(client.get("/metrics").text)
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "a", "messageId": "m1"},
            {"type": "track", "userId": "u1", "event": "b", "messageId": "m2"},
            {"type": "track", "event": "no user", "messageId": "m3"},
        ]
    }
    assert client.post("/v1/batch", json=batch, auth=(write_key, "")).status_code == 200
    after = samples(client.get("/metrics").text)
    accepted = ("tenure_ingest_messages_total", (("outcome", "accepted"),))
    quarantined = ("tenure_ingest_messages_total", (("outcome", "quarantined"),))
    assert after[accepted] - before.get(accepted, 0) == 2
    assert after[quarantined] - before.get(quarantined, 0) == 1
    assert after[("tenure_quarantined_messages", ())] == 1
    if not settings.is_postgres:
        assert after[("tenure_inbox_pending_events", ())] == 2
        assert after[("tenure_compaction_lag_seconds", ())] >= 0


def test_metrics_refuse_remote_and_proxied_clients_unless_public(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.9", 40000)) as remote:
        refused = remote.get("/metrics")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    with TestClient(app, client=LOCAL) as local:
        # A proxy on this machine forwards the internet's requests from 127.0.0.1.
        assert local.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 403
        assert local.get("/metrics").status_code == 200
    public = create_app(settings.model_copy(update={"metrics_public": True}))
    with TestClient(public, client=("203.0.113.9", 40000)) as remote:
        answer = remote.get("/metrics")
        assert answer.status_code == 200 and "tenure_http_requests_total" in answer.text


def test_json_lines_carry_extras_but_not_uvicorn_s_colour_copy() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %d", (7,), None)
    record.color_message = "Started \x1b[36m%d\x1b[0m"
    record.route = "/healthz"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Started 7" and line["route"] == "/healthz"
    assert "color_message" not in line and "request_id" not in line
