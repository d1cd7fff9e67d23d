"""The outbox over a real SMTP server on loopback, including a sender killed mid-batch."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tenure.errors import InvalidInput
from tenure.http.live import free_port
from tenure.model import OutboxMessage
from tenure.playbooks import outbox
from tenure.playbooks.config import PlaybookSettings
from tenure.playbooks.faults import EXIT_CODE
from tenure.playbooks.outbox import FakeMailer, MailError, SmtpMailer, send_pending
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

TENURE = Path(sys.executable).parent / "tenure"


class Inbox:
    """An aiosmtpd handler that keeps each received message's Message-ID."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def queue(engine: sa.Engine, count: int) -> list[str]:
    with session_scope(session_factory(engine)) as session:
        return [
            outbox.enqueue(
                session,
                kind="test",
                goal="Prove delivery",
                recipient=f"u{i}@example.com",
                subject=f"message {i}",
                body="hello",
                sender="tenure@example.com",
            ).message_id
            for i in range(count)
        ]


def statuses(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.select(OutboxMessage.status).order_by(OutboxMessage.id)).scalars()
        )


def test_sends_over_smtp_once(database_url: str, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    engine = create_engine(database_url)
    ids = queue(engine, 3)
    settings = PlaybookSettings(smtp_host="127.0.0.1", smtp_port=port)
    assert send_pending(engine, SmtpMailer(settings), settings).sent == 3
    assert send_pending(engine, SmtpMailer(settings), settings).sent == 0
    assert inbox.message_ids == ids
    assert statuses(engine) == ["sent"] * 3
    engine.dispose()


@pytest.mark.slow
def test_crash_mid_batch_loses_nothing_and_resends_only_the_cut_off_message(
    database_url: str, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    engine = create_engine(database_url)
    ids = queue(engine, 5)
    env = {
        **os.environ,
        "TENURE_DATABASE_URL": database_url,
        "TENURE_SMTP_HOST": "127.0.0.1",
        "TENURE_SMTP_PORT": str(port),
    }
    # The sender dies right after the server accepted the third message, before recording it.
    crashed = subprocess.run(
        [str(TENURE), "outbox", "send"],
        capture_output=True,
        text=True,
        env={**env, "TENURE_FAULT_POINT": "outbox.after_send:3"},
        timeout=120,
    )
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    assert inbox.message_ids == ids[:3]
    assert statuses(engine) == ["sent", "sent", "sending", "pending", "pending"]
    restarted = subprocess.run(
        [str(TENURE), "outbox", "send"], capture_output=True, text=True, env=env, timeout=120
    )
    assert restarted.returncode == 0, restarted.stderr
    assert "sent: 3" in restarted.stdout and "resumed: 1" in restarted.stdout
    # Every message arrived; only the cut-off one twice, with the same Message-ID.
    assert inbox.message_ids == [*ids[:3], ids[2], *ids[3:]]
    assert statuses(engine) == ["sent"] * 5
    engine.dispose()


def test_transient_failures_back_off_and_permanent_ones_fail(database_url: str) -> None:
    engine = create_engine(database_url)
    queue(engine, 2)
    settings = PlaybookSettings(delivery_backoff_seconds=60, delivery_max_attempts=3)
    mailer = FakeMailer(
        failures=[
            MailError("421 try later", permanent=False),
            MailError("550 no such user", permanent=True),
        ]
    )
    report = send_pending(engine, mailer, settings)
    assert (report.sent, report.retried, report.failed) == (0, 1, 1)
    assert statuses(engine) == ["pending", "failed"]
    with engine.connect() as conn:
        first = conn.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).first()
    assert first is not None and first.attempts == 1 and first.last_error == "421 try later"
    # Not due yet (backoff 60 s); due after it.
    assert send_pending(engine, mailer, settings).sent == 0
    later = first.next_attempt_at + timedelta(seconds=1)
    report = send_pending(engine, mailer, settings, now=lambda: later)
    assert report.sent == 1 and len(mailer.sent) == 1
    engine.dispose()


def test_a_message_without_a_goal_is_refused(session: Any) -> None:
    with pytest.raises(InvalidInput, match="needs a goal"):
        outbox.enqueue(
            session,
            kind="x",
            goal=" ",
            recipient="a@example.com",
            subject="s",
            body="b",
            sender="t@example.com",
        )


def test_same_dedupe_key_stores_one_message(session: Any) -> None:
    kwargs = dict(
        kind="digest",
        goal="g",
        recipient="a@example.com",
        subject="s",
        body="b",
        sender="t@example.com",
        dedupe_key="digest:1:2026-03-01",
    )
    assert outbox.enqueue(session, **kwargs).id == outbox.enqueue(session, **kwargs).id
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_nothing_is_queued_or_sent_to_an_address_that_opted_out(database_url: str) -> None:
    engine = create_engine(database_url)
    queue(engine, 2)  # to u0@ and u1@, before anyone opted out
    with session_scope(session_factory(engine)) as session:
        acme = f.account(session, external_id="acme")
        f.contact(session, acme, external_id="u1", email="U1@Example.com", email_opt_out=True)
        refused = outbox.enqueue(
            session,
            kind="survey",
            goal="Hear from them",
            recipient="u1@example.com",
            subject="s",
            body="b",
            sender="tenure@example.com",
        )
        assert refused is None
    mailer = FakeMailer()
    report = send_pending(engine, mailer, PlaybookSettings())
    assert (report.sent, report.suppressed) == (1, 1)
    assert [m["To"] for m in mailer.sent] == ["u0@example.com"]
    with engine.connect() as conn:
        held = conn.execute(
            sa.select(OutboxMessage.status, OutboxMessage.last_error).where(
                OutboxMessage.recipient == "u1@example.com"
            )
        ).one()
    assert tuple(held) == ("failed", "not sent: the recipient opted out of e-mail")
    engine.dispose()
