"""The transactional email outbox and its SMTP sender.

``enqueue`` writes a message in the caller's transaction, so it exists exactly when what caused it
was committed. ``send_pending`` then sends each message in its own short transactions:

1. claim it (status ``sending``, claimed by this process) and commit;
2. hand it to the ``Mailer``;
3. mark it ``sent`` and commit.

A crash between 1 and 3 leaves the message ``sending``: the server may or may not have it. The next
sender takes it over — at once when the claiming process is gone from this host, otherwise after
``stale_after`` — and sends it again with the same Message-ID, so the receiver can recognise the
repeat. Every other message is either ``sent`` (never sent again) or still ``pending`` (sent once).
Failures retry with exponential backoff; 5xx SMTP replies fail permanently.

Nothing is queued for, or sent to, an address whose contact opted out of e-mail: checked when a
message is queued and again before it is sent (the opt-out may arrive with an import in between).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.dates import utc
from tenure.errors import InvalidInput
from tenure.model import Contact, OutboxMessage, OutboxStatus
from tenure.model.base import utcnow
from tenure.playbooks.config import PlaybookSettings, retry_delay
from tenure.playbooks.faults import fault_point
from tenure.store.database import session_factory, session_scope


class MailError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    """Delivers one message or raises MailError; ``close`` ends the connection."""

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SmtpMailer:
    """SMTP with optional STARTTLS/implicit TLS and login; one connection per batch."""

    def __init__(self, settings: PlaybookSettings) -> None:
        if not settings.smtp_host:
            raise InvalidInput("no SMTP server configured: set TENURE_SMTP_HOST (and _PORT)")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        host = s.smtp_host or ""
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(host, s.smtp_port, timeout=s.smtp_timeout)
        else:
            smtp = smtplib.SMTP(host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == "starttls":
                smtp.starttls()
        if s.smtp_username:
            smtp.login(s.smtp_username, s.smtp_password or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            self.close()
            detail = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            raise MailError(detail, permanent=500 <= error.smtp_code < 600) from error
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            raise MailError(f"recipient refused: {error.recipients}", permanent=True) from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailError(f"SMTP connection failed: {error}", permanent=False) from error

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


@dataclass
class FakeMailer:
    """An in-memory mailer for tests and dry runs: records messages, fails on request."""

    sent: list[EmailMessage] = field(default_factory=list)
    # Errors to raise on the next sends, in order (then it succeeds).
    failures: list[MailError] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    def close(self) -> None:
        pass


def opted_out(session: Session, recipient: str) -> bool:
    """Whether a contact with this address (any case) asked for no e-mail."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Contact)
            .where(sa.func.lower(Contact.email) == recipient.strip().lower())
            .where(Contact.email_opt_out)
        )
        or 0
    ) > 0


def enqueue(
    session: Session,
    *,
    kind: str,
    goal: str,
    recipient: str,
    subject: str,
    body: str,
    sender: str,
    dedupe_key: str | None = None,
    account_id: int | None = None,
    cta_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Write a message to the outbox (in the caller's transaction); the same dedupe key twice
    returns the message already there. None: the recipient opted out, nothing is queued."""
    if not goal.strip():
        raise InvalidInput(
            f"message {subject!r} to {recipient}: refused, a message needs a goal "
            "(every customer interaction has one; say what this message should achieve)"
        )
    if "@" not in recipient:
        raise InvalidInput(f"message {subject!r}: recipient {recipient!r} is not an email address")
    if opted_out(session, recipient):
        return None
    if dedupe_key is not None:
        existing = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return existing
    domain = sender.rpartition("@")[2] or "localhost"
    now = now or utcnow()
    message = OutboxMessage(
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        dedupe_key=dedupe_key,
        kind=kind,
        goal=goal,
        sender=sender,
        recipient=recipient,
        subject=subject,
        body=body,
        status=OutboxStatus.pending,
        next_attempt_at=now,
        account_id=account_id,
        cta_id=cta_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def to_email(row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = row.message_id
    message["From"] = row.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utc(row.created_at))
    message["X-Tenure-Kind"] = row.kind
    message.set_content(row.body)
    return message


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Messages not sent because the recipient opted out after they were queued (marked failed).
    suppressed: int = 0
    # Messages found cut off mid-delivery by a previous sender and re-sent with their Message-ID.
    resumed: int = 0

    def as_counts(self) -> dict[str, int]:
        return dict(self.__dict__)


def _sender_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim_is_dead(claimed_by: str | None, claimed_at: datetime | None, stale: datetime) -> bool:
    if claimed_at is None or utc(claimed_at) < stale:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _release_cut_off(session: Session, now: datetime, stale_after: timedelta) -> int:
    stale = now - stale_after
    resumed = 0
    rows = session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.claimed_by, OutboxMessage.claimed_at).where(
            OutboxMessage.status == OutboxStatus.sending
        )
    ).all()
    for message_id, claimed_by, claimed_at in rows:
        if not _claim_is_dead(claimed_by, claimed_at, stale):
            continue
        note = f"delivery cut off mid-way (sender {claimed_by}); re-sending, same Message-ID"
        resumed += _rowcount(
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == claimed_by)
                .where(OutboxMessage.status == OutboxStatus.sending)
                .values(status=OutboxStatus.pending, claimed_by=None, last_error=note)
            )
        )
    return resumed


def _rowcount(result: sa.Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0))


def send_pending(
    engine: sa.Engine,
    mailer: Mailer,
    settings: PlaybookSettings,
    *,
    now: Callable[[], datetime] = utcnow,
    stale_after: timedelta = timedelta(minutes=10),
    limit: int | None = None,
) -> SendReport:
    """Send every due message, each in its own claim → send → mark-sent transactions."""
    factory = session_factory(engine)
    me = _sender_identity()
    report = SendReport()
    with session_scope(factory) as session:
        report.resumed = _release_cut_off(session, now(), stale_after)
    with session_scope(factory) as session:
        query = (
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.pending)
            .where(OutboxMessage.next_attempt_at <= now())
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        due = list(session.scalars(query))
    try:
        for message_id in due:
            _send_one(factory, message_id, mailer, settings, me, now, report)
    finally:
        mailer.close()
    return report


def _send_one(
    factory: sa.orm.sessionmaker[Session],
    message_id: int,
    mailer: Mailer,
    settings: PlaybookSettings,
    me: str,
    now: Callable[[], datetime],
    report: SendReport,
) -> None:
    with session_scope(factory) as session:
        claimed = _rowcount(
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.pending)
                .values(
                    status=OutboxStatus.sending,
                    claimed_by=me,
                    claimed_at=now(),
                    attempts=OutboxMessage.attempts + 1,
                )
            )
        )
        if not claimed:  # another sender took it
            return
        row = session.get_one(OutboxMessage, message_id)
        email, attempts = to_email(row), row.attempts
        if opted_out(session, row.recipient):
            row.status, row.claimed_by = OutboxStatus.failed, None
            row.last_error = "not sent: the recipient opted out of e-mail"
            report.suppressed += 1
            return
    fault_point("outbox.before_send")
    try:
        mailer.send(email)
    except MailError as error:
        give_up = error.permanent or attempts >= settings.delivery_max_attempts
        delay = timedelta(seconds=retry_delay(attempts, settings.delivery_backoff_seconds))
        with session_scope(factory) as session:
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    status=OutboxStatus.failed if give_up else OutboxStatus.pending,
                    claimed_by=None,
                    last_error=str(error),
                    next_attempt_at=now() + delay,
                )
            )
        if give_up:
            report.failed += 1
        else:
            report.retried += 1
        return
    # A crash here is the one case that re-sends: the server has the message, we don't know it.
    fault_point("outbox.after_send")
    with session_scope(factory) as session:
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=OutboxStatus.sent, sent_at=now(), claimed_by=None)
        )
    report.sent += 1
