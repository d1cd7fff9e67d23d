"""Slack alerts: configured by an admin, queued by the daily run, posted through an outbox.

``connect_slack`` stores the bot token sealed like every connection's credentials (the
``connection`` row of vendor ``slack``; never shown, logged or audited) with the channel, whether
CSMs get direct messages, which alerts and the churn-risk threshold. ``queue_alerts`` runs in the
daily run's transaction after the CTAs are raised: it finds the day's events, leaves out those
already alerted, and writes one ``slack_alert`` row per account and destination — so a re-run
queues nothing twice. ``send_alerts`` posts them as the e-mail outbox sends mail: claim and commit,
post, mark sent and commit; a sender that died mid-post is taken over (the message is posted
again: at least once); 429 waits Slack's ``Retry-After``; other failures back off and give up
after the delivery attempts, naming Slack's reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker

from tenure.accounts.schemas import StoredDatetime
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.connectors import credentials as sealing
from tenure.connectors.manage import CheckFailed
from tenure.connectors.slack import DEFAULT_URL, SlackClient, SlackFailed
from tenure.dates import utc
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Connection,
    SlackAlert,
    UserRole,
)
from tenure.model.base import utcnow
from tenure.playbooks.alert_events import LOOKBACK_DAYS, ctas_assigned, find_events
from tenure.playbooks.alerts import (
    KINDS,
    AlertEvent,
    Message,
    compose,
    compose_digest,
    dedupe_key,
)
from tenure.playbooks.config import PlaybookSettings, playbook_settings, retry_delay
from tenure.playbooks.faults import fault_point
from tenure.playbooks.outbox import _claim_is_dead, _rowcount, _sender_identity
from tenure.playbooks.rule_builder import with_stored_rules
from tenure.playbooks.rules import Ruleset, load_ruleset
from tenure.store.database import session_scope

VENDOR = "slack"


class SlackOptions(BaseModel):
    """What an admin chooses: where alerts go and which ones."""

    channel: str | None = Field(
        default=None,
        max_length=200,
        description="Channel every alert goes to (#cs-alerts, or its id C0123…); empty: none.",
    )
    to_owner: bool = Field(
        default=True,
        description="Also send each alert to the account's CSM (or the CTA's owner) by direct "
        "message, found in Slack by their e-mail.",
    )
    alerts: list[str] = Field(
        default_factory=lambda: list(KINDS), description="Which alerts to send."
    )
    risk_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Churn risk that alerts when an account's probability rises past it; "
        "empty: when the account enters the churn model's alert set (the 10 % of active "
        "accounts most at risk), which follows the model's own scale.",
    )

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and (" " in value or "," in value):
            raise ValueError(f"{value!r} is not a Slack channel name or id")
        return value or None

    @field_validator("alerts")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in KINDS]
        if unknown:
            raise ValueError(f"unknown alert {', '.join(unknown)}; choose from {', '.join(KINDS)}")
        return [k for k in KINDS if k in value]


class SlackConnectionRead(BaseModel):
    base_url: str
    options: SlackOptions
    connected_at: StoredDatetime
    updated_at: StoredDatetime
    alert_names: list[str]


class SlackAlertRead(BaseModel):
    id: int
    as_of: date
    account_id: int | None
    to: str
    text: str
    status: str
    attempts: int
    next_attempt_at: StoredDatetime
    sent_at: StoredDatetime | None
    last_error: str | None


# --- configuration ------------------------------------------------------------------------------


def connect_slack(
    session: Session,
    actor: Actor,
    secret_key: str,
    *,
    bot_token: str,
    options: SlackOptions,
    base_url: str | None = None,
) -> SlackConnectionRead:
    """Store (or replace) the Slack connection. Admins only; the audit entry shows the options,
    never the token."""
    require_role(actor.user, UserRole.admin)
    if not bot_token.strip():
        raise InvalidInput("Slack needs the bot token (xoxb-…) of the app installed in the team")
    if not options.channel and not options.to_owner:
        raise InvalidInput("choose a channel, direct messages to the CSMs, or both")
    if not options.alerts:
        raise InvalidInput(f"choose at least one alert: {', '.join(KINDS.values())}")
    connection = _find(session)
    before = None if connection is None else _public(connection)
    if connection is None:
        connection = Connection(vendor=VENDOR, credentials="")
        session.add(connection)
    connection.base_url = base_url or DEFAULT_URL
    connection.credentials = sealing.seal(secret_key, {"bot_token": bot_token.strip()})
    connection.options = options.model_dump()
    connection.is_active = True
    session.flush()
    audit.record(
        session, actor, "connect", "connection", VENDOR, before=before, after=_public(connection)
    )
    return _read(connection)


def connect_slack_checked(
    session: Session,
    actor: Actor,
    secret_key: str,
    *,
    bot_token: str,
    options: SlackOptions,
    base_url: str | None = None,
    check: bool = True,
) -> SlackConnectionRead:
    """``connect_slack`` after ``auth.test`` proved the token (the CLI, API and console's way)."""
    require_role(actor.user, UserRole.admin)
    if check and bot_token.strip():
        try:
            SlackClient(base_url or DEFAULT_URL, bot_token.strip()).check()
        except SlackFailed as failure:
            raise CheckFailed(f"nothing was stored: {failure.message}") from None
    return connect_slack(
        session, actor, secret_key, bot_token=bot_token, options=options, base_url=base_url
    )


def disconnect_slack(session: Session, actor: Actor) -> None:
    """Forget the token and options; alerts already posted stay listed, pending ones are
    dropped (there is nowhere to post them)."""
    require_role(actor.user, UserRole.admin)
    connection = _find(session)
    if connection is None:
        raise NotFound("Slack is not connected")
    before = _public(connection)
    session.execute(sa.delete(SlackAlert).where(SlackAlert.status.in_(("pending", "sending"))))
    session.delete(connection)
    session.flush()
    audit.record(session, actor, "disconnect", "connection", VENDOR, before=before)


def slack_connection(session: Session) -> SlackConnectionRead | None:
    connection = _find(session)
    return None if connection is None else _read(connection)


def slack_connected(session: Session) -> bool:
    connection = _find(session)
    return connection is not None and connection.is_active


def _find(session: Session) -> Connection | None:
    return session.scalar(sa.select(Connection).where(Connection.vendor == VENDOR))


def _public(connection: Connection) -> dict[str, Any]:
    return {"vendor": VENDOR, "base_url": connection.base_url, **connection.options}


def _read(connection: Connection) -> SlackConnectionRead:
    options = SlackOptions.model_validate(connection.options)
    return SlackConnectionRead(
        base_url=connection.base_url or DEFAULT_URL,
        options=options,
        connected_at=connection.created_at,
        updated_at=connection.updated_at,
        alert_names=[KINDS[k] for k in options.alerts],
    )


def recent_alerts(session: Session, *, limit: int = 50) -> list[SlackAlertRead]:
    rows = session.scalars(sa.select(SlackAlert).order_by(SlackAlert.id.desc()).limit(limit))
    return [
        SlackAlertRead(
            id=row.id,
            as_of=row.as_of,
            account_id=row.account_id,
            to=row.channel or f"{row.user_email} (direct message)",
            text=row.text,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )
        for row in rows
    ]


# --- queueing -----------------------------------------------------------------------------------


def queue_alerts(
    session: Session,
    as_of: date,
    *,
    public_url: str,
    ruleset: Ruleset | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Queue the day's alerts (in the caller's transaction), each event only where it was not
    alerted before: one channel message per account, and one direct message per CSM listing
    all their accounts with news."""
    connection = _find(session)
    if connection is None or not connection.is_active:
        return {}
    options = SlackOptions.model_validate(connection.options)
    events = find_events(
        session,
        as_of,
        options.alerts,
        risk_threshold=options.risk_threshold,
        assigned_since=connection.created_at,
        ruleset=ruleset,
    )
    return _queue(session, events, options, as_of, public_url, now)


def queue_handover_alerts(
    session: Session, cta_ids: Collection[int], now: datetime
) -> dict[str, int]:
    """CTAs just handed to a new owner (accounts reassigned in the console, the API or the
    CLI), alerted at once rather than at the next daily run: queued in the caller's
    transaction, posted by the worker's next tick. The daily run finds the same events and
    leaves them, already alerted."""
    connection = _find(session)
    if not cta_ids or connection is None or not connection.is_active:
        return {}
    options = SlackOptions.model_validate(connection.options)
    if "cta_assigned" not in options.alerts:
        return {}
    settings = playbook_settings()
    ruleset = with_stored_rules(session, load_ruleset(settings.rules_file))
    as_of = now.date()
    events = ctas_assigned(session, as_of, ruleset, connection.created_at, cta_ids)
    return _queue(session, events, options, as_of, settings.public_url, now)


def _queue(
    session: Session,
    events: list[AlertEvent],
    options: SlackOptions,
    as_of: date,
    public_url: str,
    now: datetime | None,
) -> dict[str, int]:
    alerted = _already_alerted(session, as_of)
    by_destination: dict[str, list[AlertEvent]] = defaultdict(list)
    for event in events:
        for destination in _destinations(event, options):
            if event.key not in alerted.get(destination, set()):
                by_destination[destination].append(event)
    base = public_url.rstrip("/")
    messages: list[tuple[str, Message]] = []
    for destination, found in sorted(by_destination.items()):
        by_account: dict[int, list[AlertEvent]] = defaultdict(list)
        for event in found:
            by_account[event.account_id].append(event)
        if destination.startswith("dm:"):
            messages.append((destination, compose_digest(list(by_account.values()), base, as_of)))
        else:
            for account_id, group in sorted(by_account.items()):
                url = f"{base}/accounts/{account_id}"
                messages.append((destination, compose(group, url, as_of)))
    counts = {kind: 0 for kind in options.alerts}
    queued = 0
    kinds = {event.key: event.kind for event in events}
    for destination, message in messages:
        key = dedupe_key(as_of, message.account_id or 0, destination, message.events)
        if session.scalar(sa.select(SlackAlert.id).where(SlackAlert.dedupe_key == key)):
            continue
        where, _, to = destination.partition(":")
        session.add(
            SlackAlert(
                dedupe_key=key,
                as_of=as_of,
                account_id=message.account_id,
                events=message.events,
                channel=to if where == "channel" else None,
                user_email=to if where == "dm" else None,
                text=message.text,
                blocks=message.blocks,
                status="pending",
                next_attempt_at=now or utcnow(),
            )
        )
        queued += 1
        for key_ in message.events:
            counts[kinds[key_]] += 1
    session.flush()
    return {"queued": queued, **{f"{kind}_events": n for kind, n in counts.items()}}


def _destinations(event: AlertEvent, options: SlackOptions) -> list[str]:
    found = []
    if options.channel:
        found.append(f"channel:{options.channel}")
    if options.to_owner and event.owner_email:
        found.append(f"dm:{event.owner_email.lower()}")
    return found


def _already_alerted(session: Session, as_of: date) -> dict[str, set[str]]:
    """The events each destination was sent in the last weeks (longer than any look-back)."""
    rows = session.execute(
        sa.select(SlackAlert.channel, SlackAlert.user_email, SlackAlert.events).where(
            SlackAlert.as_of > as_of - timedelta(days=4 * LOOKBACK_DAYS)
        )
    )
    seen: dict[str, set[str]] = defaultdict(set)
    for channel, email, events in rows:
        destination = f"channel:{channel}" if channel else f"dm:{(email or '').lower()}"
        seen[destination].update(events)
    return seen


# --- sending ------------------------------------------------------------------------------------


@dataclass
class SlackReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Posts found cut off mid-way by a sender that died; posted again.
    resumed: int = 0
    # Slack answered 429: the rest wait its Retry-After.
    rate_limited: int = 0

    def as_counts(self) -> dict[str, int]:
        return dict(self.__dict__)


def slack_client(session: Session, secret_key: str) -> SlackClient | None:
    connection = _find(session)
    if connection is None or not connection.is_active:
        return None
    token = sealing.unseal(secret_key, connection.credentials, "Slack")["bot_token"]
    return SlackClient(connection.base_url or DEFAULT_URL, token)


def send_alerts(
    factory: sessionmaker[Session],
    client: SlackClient,
    settings: PlaybookSettings,
    *,
    now: Callable[[], datetime] = utcnow,
    stale_after: timedelta = timedelta(minutes=10),
) -> SlackReport:
    """Post every due alert, each in its own claim → post → mark-sent transactions; stop at the
    first 429 (Slack's limit is per method: the others would only be refused too)."""
    me = _sender_identity()
    report = SlackReport()
    with session_scope(factory) as session:
        report.resumed = _release_cut_off(session, now(), stale_after)
        due = list(
            session.scalars(
                sa.select(SlackAlert.id)
                .where(SlackAlert.status == "pending", SlackAlert.next_attempt_at <= now())
                .order_by(SlackAlert.id)
            )
        )
    direct: dict[str, str] = {}  # e-mail → DM channel, looked up once per pass
    for alert_id in due:
        if not _post_one(factory, alert_id, client, settings, me, now, report, direct):
            break
    return report


def _release_cut_off(session: Session, now: datetime, stale_after: timedelta) -> int:
    rows = session.execute(
        sa.select(SlackAlert.id, SlackAlert.claimed_by, SlackAlert.claimed_at).where(
            SlackAlert.status == "sending"
        )
    ).all()
    resumed = 0
    for alert_id, claimed_by, claimed_at in rows:
        if not _claim_is_dead(claimed_by, claimed_at, now - stale_after):
            continue
        resumed += _rowcount(
            session.execute(
                sa.update(SlackAlert)
                .where(SlackAlert.id == alert_id, SlackAlert.claimed_by == claimed_by)
                .where(SlackAlert.status == "sending")
                .values(
                    status="pending",
                    claimed_by=None,
                    last_error=f"posting cut off mid-way (sender {claimed_by}); posting again",
                )
            )
        )
    return resumed


def _post_one(
    factory: sessionmaker[Session],
    alert_id: int,
    client: SlackClient,
    settings: PlaybookSettings,
    me: str,
    now: Callable[[], datetime],
    report: SlackReport,
    direct: dict[str, str],
) -> bool:
    """One alert; False when Slack asked to wait (the pass stops)."""
    with session_scope(factory) as session:
        claimed = _rowcount(
            session.execute(
                sa.update(SlackAlert)
                .where(SlackAlert.id == alert_id, SlackAlert.status == "pending")
                .values(
                    status="sending",
                    claimed_by=me,
                    claimed_at=now(),
                    attempts=SlackAlert.attempts + 1,
                )
            )
        )
        if not claimed:  # another sender took it
            return True
        row = session.get_one(SlackAlert, alert_id)
        channel, email, text, blocks, attempts = (
            row.channel,
            row.user_email,
            row.text,
            row.blocks,
            row.attempts,
        )
    fault_point("slack.before_send")
    try:
        if channel is None:
            assert email is not None
            if email not in direct:
                direct[email] = client.direct_channel(client.user_id(email))
            channel = direct[email]
        posted = client.post(channel, text, blocks)
    except SlackFailed as failure:
        _failed(factory, alert_id, failure, attempts, settings, now(), report)
        return failure.retry_after is None
    # A crash here is the one case that posts twice: Slack has it, we don't know it.
    fault_point("slack.after_send")
    with session_scope(factory) as session:
        session.execute(
            sa.update(SlackAlert)
            .where(SlackAlert.id == alert_id)
            .values(
                status="sent",
                sent_at=now(),
                claimed_by=None,
                posted_channel=posted.channel,
                posted_ts=posted.ts,
            )
        )
    report.sent += 1
    return True


def _failed(
    factory: sessionmaker[Session],
    alert_id: int,
    failure: SlackFailed,
    attempts: int,
    settings: PlaybookSettings,
    moment: datetime,
    report: SlackReport,
) -> None:
    if failure.retry_after is not None:
        # A 429 is Slack pacing us, not a failed attempt: wait as long as it says.
        give_up, wait = False, failure.retry_after
        attempts_after = attempts - 1
        report.rate_limited += 1
    else:
        give_up = failure.permanent or attempts >= settings.delivery_max_attempts
        wait = retry_delay(attempts, settings.delivery_backoff_seconds)
        attempts_after = attempts
        if give_up:
            report.failed += 1
        else:
            report.retried += 1
    with session_scope(factory) as session:
        session.execute(
            sa.update(SlackAlert)
            .where(SlackAlert.id == alert_id)
            .values(
                status="failed" if give_up else "pending",
                claimed_by=None,
                attempts=attempts_after,
                last_error=failure.message,
                next_attempt_at=utc(moment) + timedelta(seconds=wait),
            )
        )
