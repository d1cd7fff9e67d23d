"""Plays applied to simulated accounts: an interventions file and the value they add.

A file (CSV or Parquet) lists one intervention per row — ``account_external_id``, ``date``
(ISO, inside the simulated window) and ``play`` (a key of ``interventions.plays`` in the config).
From that date, for the play's ``duration_days``, the account's daily utility gets the play's
``value_effect`` (in utility units) on top of what its behaviour earns; latent value, the moving
average the renewal decision reads, therefore rises gradually and decays after the play ends.
Renewal outcomes change only through that value: the engine never flips an outcome, and applying a
play consumes no random number, so with no interventions a seed reproduces the base byte for byte.

The truth records, at each renewal decision of a treated account, the churn probability with the
play and the counterfactual one without it (same day, same draws, latent value minus the play's
accumulated lift): their difference, averaged, is the play's true average effect on churn.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tenure.errors import InvalidInput, RejectedFile, RowError
from tenure.simulate.calendar import Calendar
from tenure.simulate.config import SimulationConfig
from tenure.simulate.population import NEVER

COLUMNS = ("account_external_id", "date", "play")
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Interventions:
    """Parsed rows of an interventions file (days are simulation days, lines are file lines)."""

    source: str
    accounts: list[str] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    plays: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.accounts)

    def digest(self) -> str:
        """A short SHA-256 of the rows: cite it beside the config hash of a run with plays."""
        rows = sorted(zip(self.accounts, self.days, self.plays, strict=True))
        canonical = "\n".join(f"{a},{d},{p}" for a, d, p in rows)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _records(path: Path) -> tuple[list[tuple[int, dict[str, object]]], str]:
    """(line, row) pairs and the word for a position ("line" for CSV, "row" for Parquet)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as error:
            raise InvalidInput(f"{path}: not a readable Parquet file: {error}") from error
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}")
        rows = table.select(list(COLUMNS)).to_pylist()
        return [(i + 1, row) for i, row in enumerate(rows)], "row"
    if suffix != ".csv":
        raise InvalidInput(f"{path}: an interventions file must be .csv or .parquet")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:  # an empty file: no interventions
            return [], "line"
        missing = [c for c in COLUMNS if c not in reader.fieldnames]
        if missing:
            raise InvalidInput(
                f"{path}: line 1: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(COLUMNS)})"
            )
        return [(reader.line_num, dict(row)) for row in reader], "line"


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(value)


def read_interventions(path: Path, config: SimulationConfig) -> Interventions:
    """Parse and check an interventions file against the run's window and configured plays.

    Every bad row is reported (line or row number, column, value, reason) and the file is refused
    whole. Account ids are checked against the simulated accounts by the engine.
    """
    if not path.exists():
        raise InvalidInput(f"{path}: interventions file not found")
    records, _ = _records(path)
    calendar = Calendar.ending(config.as_of, config.months)
    plays = config.interventions.plays
    parsed = Interventions(source=str(path))
    errors: list[RowError] = []
    for line, row in records:
        account = row.get("account_external_id")
        if account is None or not str(account).strip():
            errors.append(RowError(line, "account_external_id", None, "required"))
        raw_date = row.get("date")
        day: int | None = None
        try:
            when = _as_date(raw_date)
        except ValueError:
            errors.append(
                RowError(
                    line,
                    "date",
                    None if raw_date is None else str(raw_date),
                    "expected a date like 2026-03-01",
                )
            )
        else:
            if not calendar.start <= when < calendar.as_of:
                errors.append(
                    RowError(
                        line,
                        "date",
                        when.isoformat(),
                        f"outside the simulated window {calendar.start} … "
                        f"{calendar.as_of.fromordinal(calendar.as_of.toordinal() - 1)}",
                    )
                )
            else:
                day = (when - calendar.start).days
        play = row.get("play")
        if play is None or str(play).strip() not in plays:
            known = ", ".join(sorted(plays)) or "none: add interventions.plays to the config"
            errors.append(
                RowError(
                    line,
                    "play",
                    None if play is None else str(play),
                    f"not a configured play (configured: {known})",
                )
            )
        if account and day is not None and play is not None and str(play).strip() in plays:
            parsed.accounts.append(str(account).strip())
            parsed.days.append(day)
            parsed.plays.append(str(play).strip())
            parsed.lines.append(line)
    if errors:
        raise RejectedFile(str(path), errors)
    return parsed


class PlaySchedule:
    """Which plays act on which accounts each day: the engine's view of an interventions file."""

    def __init__(
        self, interventions: Interventions, config: SimulationConfig, account_index: dict[str, int]
    ) -> None:
        errors = [
            RowError(line, "account_external_id", account, "no such account in this simulation")
            for account, line in zip(interventions.accounts, interventions.lines, strict=True)
            if account not in account_index
        ]
        if errors:
            raise RejectedFile(interventions.source, errors)
        self.play_names = sorted(config.interventions.plays)
        effects = config.interventions.plays
        self.account: Ints = np.array(
            [account_index[a] for a in interventions.accounts], dtype=np.int64
        )
        self.start: Ints = np.array(interventions.days, dtype=np.int64)
        self.play: Ints = np.array(
            [self.play_names.index(p) for p in interventions.plays], dtype=np.int64
        )
        self.end: Ints = self.start + np.array(
            [effects[p].duration_days for p in interventions.plays], dtype=np.int64
        )
        self.effect = np.array([effects[p].value_effect for p in interventions.plays], dtype=float)
        self.change_days = set(self.start.tolist()) | set(self.end.tolist())

    def effect_today(self, day: int, current: npt.NDArray[np.float64]) -> None:
        """Update ``current`` (per account) on days a play starts or ends; no randomness."""
        if day not in self.change_days:
            return
        touched = (self.start == day) | (self.end == day)
        accounts = np.unique(self.account[touched])
        running = (self.start <= day) & (day < self.end) & np.isin(self.account, accounts)
        current[accounts] = 0.0
        np.add.at(current, self.account[running], self.effect[running])

    def started(self, day: int) -> tuple[Ints, Ints]:
        """Accounts whose play starts today, and which play."""
        today = self.start == day
        return self.account[today], self.play[today]


class RunningPlays:
    """The schedule plus what plays have done to each account so far (``n`` accounts)."""

    def __init__(self, schedule: PlaySchedule, n: int) -> None:
        self.schedule = schedule
        self.effect = np.zeros(n)  # utility a running play adds today
        self.lift = np.zeros(n)  # its moving average: what the play adds to latent value
        self.treated_on = np.full(n, NEVER, np.int64)
        self.last_play = np.full(n, -1, np.int64)
        self.truth_decided = np.zeros(n, np.bool_)  # first decision since treatment recorded
        self.customer_at_start = np.zeros(len(schedule.account), np.bool_)

    def begin_day(self, day: int, customer: npt.NDArray[np.bool_]) -> None:
        """Today's play effects; plays starting today mark their accounts as treated."""
        self.schedule.effect_today(day, self.effect)
        accounts, plays = self.schedule.started(day)
        self.customer_at_start[self.schedule.start == day] = customer[accounts]
        if len(accounts):
            self.treated_on[accounts] = np.minimum(self.treated_on[accounts], day)
            self.last_play[accounts] = plays
            self.truth_decided[accounts] = False
