"""Sign-in limiting that slows guessing without locking anyone out.

Failures are counted per (account, address) — the e-mail typed and the client's address — and
nothing else, so:

- failures for an e-mail that has no account, or for Cleo, never slow down Ada;
- a correct password from an address that has not failed for that account always gets in, so
  nobody can lock a colleague out on purpose from elsewhere;
- one address guessing one account waits longer after each failure past the free ones
  (30 s, 1 min, 2 min, … up to 15 min), remembered for a day, cleared by a success.

Guessing from many addresses (a botnet) is slowed per address only; an account-wide lock would
hand the same attacker a way to lock the real user out. Behind a reverse proxy the address is
the one the proxy reports, and only proxies named in ``TENURE_TRUSTED_PROXIES`` are believed.

Failures are rows of the operational database (``login_failure``), not process memory, so the
limit holds across every uvicorn worker and survives a restart; each check is one indexed
aggregate. Time is an argument (``now``, aware UTC) so the delays are testable without sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.dates import utc
from tenure.model import LoginFailure

FREE_FAILURES = 4
FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 15 * 60
MEMORY_SECONDS = 24 * 3600


def attempt_key(email: str, address: str) -> str:
    """The (account, address) pair a failure counts against."""
    return f"{email.strip().lower()} from {address}"


def describe_wait(seconds: int) -> str:
    """'45 seconds', '1 minute', '15 minutes' (900 s): minutes rounded up, never down."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class LoginRateLimiter:
    free_failures: int = FREE_FAILURES
    first_delay_seconds: int = FIRST_DELAY_SECONDS
    max_delay_seconds: int = MAX_DELAY_SECONDS
    memory_seconds: int = MEMORY_SECONDS

    def delay(self, failures: int) -> int:
        """Seconds to wait after the last of ``failures``: 0 for the free ones, then doubling.

        >>> [LoginRateLimiter().delay(n) for n in (4, 5, 6, 7, 9, 10, 50)]
        [0, 30, 60, 120, 480, 900, 900]
        """
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0
        return min(self.first_delay_seconds * 2 ** min(beyond - 1, 32), self.max_delay_seconds)

    def retry_after(self, session: Session, key: str, now: datetime) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        count, last = session.execute(
            sa.select(sa.func.count(), sa.func.max(LoginFailure.failed_at)).where(
                LoginFailure.key == key,
                LoginFailure.failed_at > now - timedelta(seconds=self.memory_seconds),
            )
        ).one()
        if last is None:
            return 0
        allowed_at = utc(last) + timedelta(seconds=self.delay(count))
        return max(0, math.ceil((allowed_at - now).total_seconds()))

    def record_failure(self, session: Session, key: str, now: datetime) -> None:
        """Store one failure, and drop failures older than the memory."""
        forgotten = now - timedelta(seconds=self.memory_seconds)
        session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at <= forgotten))
        session.add(LoginFailure(key=key, failed_at=now))
        session.flush()

    def reset(self, session: Session, key: str) -> None:
        """A successful sign-in clears its key's failures."""
        session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))
