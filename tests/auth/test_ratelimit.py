"""Sign-in limiting slows guessing and never locks out the innocent (issue 16.3): five failures
for a non-existent e-mail used to lock every user behind that address, admin included, for 15
minutes, and X-Forwarded-For from any local client was believed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.auth.ratelimit import LoginRateLimiter, describe_wait
from tenure.config import Settings
from tenure.model import AuditLog
from tenure.model.base import utcnow
from tenure.server import create_app
from tenure.store.database import create_engine
from tests.web.factories import make_book, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "cleo@example.com from 10.0.0.7"


def test_four_failures_are_free_then_each_one_doubles_the_wait(session: Session) -> None:
    limiter = LoginRateLimiter()
    for minute in range(4):
        assert limiter.retry_after(session, KEY, T0 + timedelta(minutes=minute)) == 0
        limiter.record_failure(session, KEY, T0 + timedelta(minutes=minute))
    assert limiter.retry_after(session, KEY, T0 + timedelta(minutes=3)) == 0
    limiter.record_failure(session, KEY, T0 + timedelta(minutes=4))  # the 5th: 30 s
    assert limiter.retry_after(session, KEY, T0 + timedelta(minutes=4, seconds=10)) == 20
    assert limiter.retry_after(session, KEY, T0 + timedelta(minutes=4, seconds=30)) == 0
    limiter.record_failure(session, KEY, T0 + timedelta(minutes=5))  # the 6th: 60 s
    assert limiter.retry_after(session, KEY, T0 + timedelta(minutes=5)) == 60
    assert limiter.retry_after(session, "cleo@example.com from 10.0.0.8", T0) == 0
    # Failures are remembered for a day, then forgotten.
    assert limiter.retry_after(session, KEY, T0 + timedelta(days=1, minutes=5)) == 0


def test_the_wait_is_capped_and_a_success_clears_it(session: Session) -> None:
    limiter = LoginRateLimiter()
    for second in range(20):
        limiter.record_failure(session, KEY, T0 + timedelta(seconds=second))
    assert limiter.retry_after(session, KEY, T0 + timedelta(seconds=19)) == 900
    limiter.reset(session, KEY)
    assert limiter.retry_after(session, KEY, T0 + timedelta(seconds=19)) == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1 second"), (30, "30 seconds"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")],
)
def test_the_message_says_the_right_duration(seconds: int, text: str) -> None:
    """The old message said '16 minute(s)' for 900 s."""
    assert describe_wait(seconds) == text


def _client(console: Console, address: str) -> TestClient:
    return TestClient(console.client.app, client=(address, 50000))


def test_failures_for_a_non_existent_email_lock_out_nobody(console: Console) -> None:
    """The reproduction: five failures for a made-up e-mail, then the admin from that address."""
    office = _client(console, "192.0.2.10")
    for _ in range(8):
        assert sign_in(office, "nobody@example.com", "guess").status_code in (401, 429)
    assert sign_in(office, "ada@example.com").status_code == 303


def test_nobody_can_lock_a_colleague_out_from_elsewhere(console: Console) -> None:
    attacker, cleo = _client(console, "198.51.100.66"), _client(console, "192.0.2.10")
    for _ in range(8):
        sign_in(attacker, "cleo@example.com", "guess")
    refused = sign_in(attacker, "cleo@example.com")  # even the right password, from there
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account from here" in refused.text
    assert sign_in(cleo, "cleo@example.com").status_code == 303


def test_the_guessing_address_waits_and_is_told_how_long(console: Console) -> None:
    for _ in range(5):
        assert sign_in(console.client, "cleo@example.com", "wrong").status_code == 401
    limited = sign_in(console.client, "cleo@example.com")
    assert limited.status_code == 429
    wait = int(limited.headers["retry-after"])
    assert 0 < wait <= 30  # the 5th failure costs 30 s
    assert f"Try again in {describe_wait(wait)}." in limited.text


def test_failed_sign_ins_are_audited(console: Console) -> None:
    guesser = _client(console, "198.51.100.66")
    sign_in(guesser, "Cleo@Example.com", "wrong")
    sign_in(guesser, "nobody@example.com", "wrong")
    with console.session() as db:
        entries = db.query(AuditLog).filter_by(action="user.sign_in_failed").order_by(AuditLog.id)
        assert [(e.entity_id, e.via, e.after) for e in entries] == [
            (
                str(console.book.cleo.id),
                "web",
                {
                    "email": "cleo@example.com",
                    "address": "198.51.100.66",
                    "reason": "wrong email or password",
                },
            ),
            (
                None,
                "web",
                {
                    "email": "nobody@example.com",
                    "address": "198.51.100.66",
                    "reason": "wrong email or password",
                },
            ),
        ]


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_configured(console: Console) -> None:
    """A guesser naming a fresh address in every request is still one address."""
    for n in range(5):
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        console.client.headers.update(headers)
        assert sign_in(console.client, "cleo@example.com", "wrong").status_code == 401
    console.client.headers["X-Forwarded-For"] = "203.0.113.99"
    assert sign_in(console.client, "cleo@example.com").status_code == 429


@pytest.fixture
def behind_proxy(database_url: str, data_dir: Path) -> Iterator[TestClient]:
    """The app behind a reverse proxy at 10.0.0.1 (TENURE_TRUSTED_PROXIES), reached through it."""
    engine = create_engine(database_url)
    with Session(engine) as db:
        make_book(db, utcnow().date())
        db.commit()
    engine.dispose()
    settings = Settings(database_url=database_url, data_dir=data_dir, trusted_proxies="10.0.0.1")
    with TestClient(create_app(settings), client=("10.0.0.1", 50000)) as client:
        yield client


def test_a_configured_proxy_s_x_forwarded_for_is_believed(behind_proxy: TestClient) -> None:
    behind_proxy.headers["X-Forwarded-For"] = "203.0.113.5"
    for _ in range(5):
        assert sign_in(behind_proxy, "cleo@example.com", "wrong").status_code == 401
    assert sign_in(behind_proxy, "cleo@example.com").status_code == 429
    behind_proxy.headers["X-Forwarded-For"] = "203.0.113.9"  # Cleo, from her own address
    assert sign_in(behind_proxy, "cleo@example.com").status_code == 303


def test_a_proxy_must_be_an_address_or_network() -> None:
    assert Settings(trusted_proxies="10.0.0.1, 172.16.0.0/12").trusted_proxies
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies="*")


@pytest.mark.slow
def test_two_server_processes_share_the_count(database_url: str, tmp_path: Path) -> None:
    """Two app instances over one database, as two uvicorn workers are: three failures through
    one and two through the other make the sixth attempt wait on both, right password or not."""
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
