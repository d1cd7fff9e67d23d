"""Sign-in rate limiting: a sliding window of failed attempts per email and per client address.

Kept in the server process's memory: one `tenure serve` process holds the console, and a restart
forgetting failures is acceptable (the window is minutes long).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from threading import Lock

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


@dataclass
class LoginRateLimiter:
    max_failures: int = MAX_FAILURES
    window_seconds: float = WINDOW_SECONDS
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: Lock = field(default_factory=Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_seconds:
            times.popleft()
        return times

    def retry_after(self, keys: list[str], now: float) -> int:
        """Seconds until another attempt is allowed for any of ``keys``; 0 when allowed now."""
        with self._lock:
            waits = [
                int(self.window_seconds - (now - times[0])) + 1
                for key in keys
                if len(times := self._recent(key, now)) >= self.max_failures
            ]
        return max(waits, default=0)

    def record_failure(self, keys: list[str], now: float) -> None:
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def reset(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
