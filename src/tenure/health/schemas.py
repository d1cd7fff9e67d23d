"""The shapes health surfaces exchange: a score with every measure that produced it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class MeasureScore(BaseModel):
    """One measure of one account's score: what it saw, what it earned, what would move it."""

    metric: str
    name: str
    value: float | None
    # The value as a person reads it ("42 %", "12 days", "—" for no data).
    shown: str
    points: int
    max_points: int
    # The next threshold up (None when the measure already earns its maximum).
    next_at: float | None
    next_shown: str | None
    # Points the score would gain if the measure reached ``next_at``.
    gain: int

    @property
    def what_would_move_it(self) -> str:
        if self.next_shown is None:
            return "at maximum"
        return f"{self.next_shown} → +{self.gain} points"


class AccountScore(BaseModel):
    account_id: int
    account_external_id: str
    account_name: str
    as_of: date
    scorecard: str
    scorecard_version: str
    profile: str
    score: int
    band: str
    # up | down | flat against the previous stored score; "new" when there is none.
    trend: str
    previous_score: int | None
    measures: list[MeasureScore]
