"""The shapes health surfaces exchange: a score with every measure that produced it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, field_validator

from tenure.words import compared


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

    @field_validator("next_shown")
    @classmethod
    def _in_words(cls, shown: str | None) -> str | None:
        """Scores stored before the next step was written in words ('≥ 80 %') read as the new
        ones ('at least 80 %'): pages show stored scores until the daily run rescores them."""
        if shown and shown[:2] in ("≥ ", "≤ "):
            return compared(shown[0], shown[2:])
        return shown

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


class ScorecardVersionRead(BaseModel):
    """A stored scorecard version: its definition, who saved it when, whether it is in force."""

    id: int
    scorecard: str
    version: str
    # "name@version": how the CLI, API and pages name it.
    reference: str
    note: str | None
    saved_via: str
    saved_by: str | None
    saved_at: datetime
    in_force: bool
    in_force_since: datetime | None
    put_in_force_by: str | None
    text: str


class AlertFigures(BaseModel):
    """How early one alert rule caught the churners (tenure.risk.evaluation.early_warning)."""

    # "lowest 10 % of scores", "red band"
    alert: str
    # Share of accounts alerted on a date: the budget, or the band's average share.
    budget: float | None
    # Churners whose 90-days-ahead date fell inside the scored history.
    churners: int
    flagged_ahead: int
    flagged_ahead_share: float | None
    median_lead_days: float | None
    never_flagged: int


class CardBacktest(BaseModel):
    reference: str
    scorecard: str
    version: str
    alerts: list[AlertFigures]


class HeadToHead(BaseModel):
    """Churner by churner: which version alerted first (longer lead time)."""

    alert: str
    churners: int
    earlier_base: int
    earlier_candidate: int
    # Both alerted on the same first date …
    same_day: int
    # … or neither within the 365 days before the renewal.
    neither: int


class ScorecardComparison(BaseModel):
    """Two scorecard versions backtested on the same weekly history."""

    base: CardBacktest
    candidate: CardBacktest
    head_to_head: list[HeadToHead]
    first_day: date
    last_day: date
    weeks: int
    # Mondays within the 365 days before some lost renewal: the only ones an alert can count on.
    scored_weeks: int
    accounts: int
    # Renewals lost within the history (not all are measurable 90 days ahead).
    churners_lost: int
    lead_days: int
    # The last day with data when the backtest ran.
    data_end: date
    # The outcome in a sentence, for the page and the CLI.
    verdict: str
    run_at: datetime | None = None
    run_by: str | None = None


class BacktestRun(BaseModel):
    """A backtest someone asked for and where it stands: queued, running, done or failed (one
    still queued or running long after it was asked for is ``abandoned``: the process that ran
    it stopped)."""

    id: int
    base: str
    candidate: str
    status: Literal["queued", "running", "done", "failed", "abandoned"]
    requested_at: datetime
    requested_by: str | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class BacktestState(BaseModel):
    """An asked-for backtest, and its result once done."""

    run: BacktestRun
    comparison: ScorecardComparison | None


class ThresholdEdit(BaseModel):
    at: float
    points: int


class MeasureEdit(BaseModel):
    """New weight and steps of one measure of one profile (unchanged measures are left out)."""

    profile: str
    metric: str
    weight: int
    thresholds: list[ThresholdEdit]


class ScorecardEdit(BaseModel):
    """A new version made from a stored one by changing its numbers (what the console's form
    sends): the new label, why, and the bands, trend tolerance and measures that changed."""

    version: str
    note: str | None = None
    trend_tolerance: int | None = None
    # band name → its lowest score
    bands: dict[str, int] = {}
    measures: list[MeasureEdit] = []


class ScorecardText(BaseModel):
    """A whole scorecard definition in YAML (tenure.health.scorecard documents the format)."""

    text: str
    note: str | None = None


class MeasureForm(BaseModel):
    """One measure as the console's editor shows it: in the metric's display unit (a share as a
    percentage), with the comparison in words."""

    metric: str
    name: str
    why: str
    weight: int
    # "at least" (higher is better) or "at most" (lower is better)
    comparison: str
    # "%", "days", "" — and the factor from stored to shown (100 for shares and changes)
    unit: str
    scale: float
    # (threshold as shown, points)
    steps: list[tuple[float, int]]


class ProfileForm(BaseModel):
    name: str
    description: str
    measures: list[MeasureForm]
