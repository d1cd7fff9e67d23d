"""Sign-in rate limiting: a sliding window of failed attempts per email and per client address.

Failures are rows of the operational database (``login_failure``), not process memory, so the
limit holds across every uvicorn worker and survives a restart; each check is one indexed count
per key. Time is an argument (``now``, aware UTC) so the window is testable without sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import LoginFailure

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _aware(moment: datetime, like: datetime) -> datetime:
    # SQLite keeps no zone: its stored times are UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


@dataclass(frozen=True)
class LoginRateLimiter:
    max_failures: int = MAX_FAILURES
    window_seconds: float = WINDOW_SECONDS

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    def retry_after(self, session: Session, keys: Sequence[str], now: datetime) -> int:
        """Seconds until another attempt is allowed for any of ``keys``; 0 when allowed now.

        A key is blocked while it has ``max_failures`` failures inside the window; it frees up
        when the oldest of its last ``max_failures`` failures leaves the window.
        """
        waits = []
        for key in keys:
            recent = session.scalars(
                sa.select(LoginFailure.failed_at)
                .where(LoginFailure.key == key, LoginFailure.failed_at > now - self.window)
                .order_by(LoginFailure.failed_at.desc())
                .limit(self.max_failures)
            ).all()
            if len(recent) >= self.max_failures:
                oldest = _aware(recent[-1], now)
                waits.append(int((oldest + self.window - now).total_seconds()) + 1)
        return max(waits, default=0)

    def record_failure(self, session: Session, keys: Sequence[str], now: datetime) -> None:
        """Store one failure per key, and drop failures that left the window."""
        session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        session.add_all(LoginFailure(key=key, failed_at=now) for key in keys)
        session.flush()

    def reset(self, session: Session, keys: Sequence[str]) -> None:
        """A successful sign-in clears its keys' failures."""
        session.execute(sa.delete(LoginFailure).where(LoginFailure.key.in_(list(keys))))
