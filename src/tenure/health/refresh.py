"""Fresh scores: the intraday refresh of the accounts whose events arrived since the last one.

Functions take the session first and flush, never commit; the caller commits and then saves the
watermark (``save_watermark``), so a refresh that fails or is killed is simply done again.

    run = refresh_scores(session, store, data_dir, date.today())
    session.commit(); save_watermark(data_dir, run.watermark)

**Which accounts.** The embedded inbox numbers rows as they are appended; the watermark
(``<data_dir>/refresh.json``) is the last row a committed refresh has seen. The accounts touched
since are those whose external id an event names, plus those of the contacts an event's user id
names (a superset of the attributed accounts — an extra account is recomputed, never a missing
one). On PostgreSQL the watermark is the newest ``received_at`` seen, re-read with a small overlap.

**What is recomputed.** The metrics of the as-of day for those accounts only, read from the daily
roll-up (:mod:`tenure.metrics.rollup`) plus the inbox, and their health scores; other accounts'
rows of the day are kept. When nothing is stored for the day yet, every account is computed, so
the latest scored day never shows part of the book.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import ibis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.health.scorecard import Scorecard
from tenure.health.service import score_day
from tenure.health.versions import scorecard_in_force
from tenure.metrics.incremental import incremental_metrics_frame
from tenure.metrics.service import compute_and_store, store_metrics
from tenure.model import Account, Contact, MetricSnapshot
from tenure.model.base import utcnow
from tenure.store.events import EventStore
from tenure.store.events.embedded import EmbeddedEvents
from tenure.store.events.inbox import from_micros, to_micros

WATERMARK_FILE = "refresh.json"
# PostgreSQL: events committed a little after a later-received one are still picked up.
RECEIVED_OVERLAP = timedelta(minutes=2)
_IN_CHUNK = 5_000


@dataclass(frozen=True)
class Watermark:
    seq: int = 0
    received_at_us: int = 0


@dataclass(frozen=True)
class RefreshRun:
    as_of: date
    # Accounts whose metrics and score were recomputed (every account on a full day).
    accounts: int
    full_day: bool
    watermark: Watermark
    # The oldest new event's reception: now minus it is the worst acknowledgement → score wait.
    oldest_received_at: datetime | None
    seconds: float


def load_watermark(data_dir: Path) -> Watermark:
    path = data_dir / WATERMARK_FILE
    try:
        data = json.loads(path.read_text())
        return Watermark(int(data["seq"]), int(data["received_at_us"]))
    except FileNotFoundError:
        return Watermark()
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a refresh watermark ({error}); delete it") from None


def save_watermark(data_dir: Path, watermark: Watermark) -> None:
    path = data_dir / WATERMARK_FILE
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(watermark.__dict__))
    os.replace(temporary, path)


def touched_since(
    store: EventStore, watermark: Watermark
) -> tuple[list[tuple[str | None, str | None, int]], Watermark]:
    """(account_id, user_id, oldest received_at µs) of events after the watermark, and the next."""
    storage = store.storage
    if type(storage) is EmbeddedEvents:
        pairs, newest = storage.inbox.appended_since(watermark.seq)
        return pairs, Watermark(newest, watermark.received_at_us)
    since = from_micros(watermark.received_at_us) - RECEIVED_OVERLAP
    con = store.connect()
    try:
        events = store.table(con)
        received = events.received_at.cast(ibis.dtype("timestamp('UTC', 6)"))
        new = events.filter(received > since)
        rows = (
            new.group_by("account_id", "user_id")
            .aggregate(first=received.min(), last=received.max())
            .to_pyarrow()
            .to_pylist()
        )
    finally:
        con.disconnect()
    newest = max((to_micros(r["last"]) for r in rows), default=watermark.received_at_us)
    pairs = [(r["account_id"], r["user_id"], to_micros(r["first"])) for r in rows]
    return pairs, Watermark(watermark.seq, newest)


def accounts_of(
    session: Session, pairs: Collection[tuple[str | None, str | None, int]]
) -> set[int]:
    """Internal ids of the accounts events name, directly or through a contact's user id."""
    externals = sorted({a for a, _, _ in pairs if a is not None})
    users = sorted({u for _, u, _ in pairs if u is not None})
    found: set[int] = set()
    for start in range(0, len(externals), _IN_CHUNK):
        chunk = externals[start : start + _IN_CHUNK]
        found.update(session.scalars(sa.select(Account.id).where(Account.external_id.in_(chunk))))
    for start in range(0, len(users), _IN_CHUNK):
        chunk = users[start : start + _IN_CHUNK]
        found.update(
            session.scalars(
                sa.select(Contact.account_id).where(
                    Contact.external_id.in_(chunk), Contact.account_id.is_not(None)
                )
            )
        )
    return found


def refresh_scores(
    session: Session,
    store: EventStore,
    data_dir: Path,
    as_of: date,
    card: Scorecard | None = None,
) -> RefreshRun:
    """Recompute metrics and health on ``as_of`` for the accounts with events since the last
    refresh (every account when the day has nothing stored yet). Flushes; never commits.

    With no new events it does nothing: scoring a day nobody sent data for is the daily run's
    job, and a base whose data ends before today (an import, the demo) keeps its scores.
    """
    started = utcnow()
    pairs, watermark = touched_since(store, load_watermark(data_dir))
    if not pairs:
        return RefreshRun(
            as_of=as_of,
            accounts=0,
            full_day=False,
            watermark=watermark,
            oldest_received_at=None,
            seconds=round((utcnow() - started).total_seconds(), 3),
        )
    card = card or scorecard_in_force(session, data_dir)
    stored = session.scalar(
        sa.select(sa.func.count()).select_from(MetricSnapshot).where(MetricSnapshot.as_of == as_of)
    )
    if not stored:
        computed = compute_and_store(session, store, as_of, incremental=True)
        accounts = len(score_day(session, store, as_of, card)) if computed.accounts else 0
    else:
        ids = accounts_of(session, pairs)
        if ids:
            frame = incremental_metrics_frame(session, store, as_of, account_ids=sorted(ids))
            store_metrics(session, as_of, frame, partial=True)
            score_day(session, store, as_of, card, account_ids=ids)
        accounts = len(ids)
    oldest = min((at for _, _, at in pairs), default=None)
    return RefreshRun(
        as_of=as_of,
        accounts=accounts,
        full_day=not stored,
        watermark=watermark,
        oldest_received_at=None if oldest is None else from_micros(oldest),
        seconds=round((utcnow() - started).total_seconds(), 3),
    )
