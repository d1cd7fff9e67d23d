"""The sign-in rate limit lives in the database: two server processes share one count."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tenure.api.app import create_app
from tenure.auth.ratelimit import LoginRateLimiter
from tenure.config import Settings
from tenure.model.base import utcnow
from tenure.store.database import create_engine
from tests.web.factories import make_book, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEYS = ["email:cleo@example.com", "client:10.0.0.7"]


def test_five_failures_block_until_the_oldest_leaves_the_window(session: Session) -> None:
    limiter = LoginRateLimiter(max_failures=5, window_seconds=900)
    for minute in range(5):
        assert limiter.retry_after(session, KEYS, T0 + timedelta(minutes=minute)) == 0
        limiter.record_failure(session, KEYS, T0 + timedelta(minutes=minute))
    # At 09:05 the oldest failure (09:00) leaves the 15-minute window at 09:15: 600 s + 1.
    assert limiter.retry_after(session, KEYS, T0 + timedelta(minutes=5)) == 601
    assert limiter.retry_after(session, ["email:other@example.com"], T0) == 0
    assert limiter.retry_after(session, KEYS, T0 + timedelta(minutes=15, seconds=1)) == 0


def test_success_clears_the_keys_and_old_failures_are_pruned(session: Session) -> None:
    from tenure.model import LoginFailure

    limiter = LoginRateLimiter(max_failures=2, window_seconds=60)
    limiter.record_failure(session, KEYS, T0)
    limiter.record_failure(session, KEYS, T0 + timedelta(seconds=1))
    assert limiter.retry_after(session, KEYS[:1], T0 + timedelta(seconds=2)) == 59
    limiter.reset(session, KEYS[:1])
    assert limiter.retry_after(session, KEYS[:1], T0 + timedelta(seconds=2)) == 0
    assert limiter.retry_after(session, KEYS[1:], T0 + timedelta(seconds=2)) == 59
    # A failure two minutes later drops the two that left the window.
    limiter.record_failure(session, ["email:x@example.com"], T0 + timedelta(minutes=2))
    assert session.query(LoginFailure).count() == 1


def test_two_server_processes_share_the_count(database_url: str, tmp_path: Path) -> None:
    """Two app instances over one database, as two uvicorn workers are: three failures through
    one and two through the other block the sixth attempt on both, right password or not."""
    engine = create_engine(database_url)
    with Session(engine) as db:
        make_book(db, utcnow().date())
        db.commit()
    engine.dispose()
    apps = [
        create_app(Settings(database_url=database_url, data_dir=tmp_path / f"w{i}")) for i in (1, 2)
    ]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        for client in (first, first, first, second, second):
            assert sign_in(client, "cleo@example.com", "wrong-password").status_code == 401
        for client in (first, second):
            limited = sign_in(client, "cleo@example.com")
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) > 0
