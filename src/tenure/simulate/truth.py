"""Ground truth of a simulated customer base: what a real company never sees.

Written beside the data, in ``<out>/truth/`` (files) or ``<data_dir>/truth/`` (stores):

- ``accounts.parquet``: the six latent fits, Ready/Willing/Able, bad fit by construction (no
  Success Potential at signing), adoption target, ramp and idiosyncratic value.
- ``value_monthly.parquet``: each account's latent value per month (mean daily utility, its
  standardized z and the moving average the renewal decision reads).
- ``renewals.parquet``: every renewal decision — outcome, the true cause of a churn, its side,
  whether it was avoidable, whether no behaviour explains it, the churn probability used (over
  the intent and decision steps, before either was drawn), the day the customer formed its intent
  to leave (null: none, or no intent stage) and the reason it stated (often not the true one).
- ``milestones.parquet``: each segment milestone's true reach date (null: not reached by as_of).
- ``run.json``: the config hash, seed, window and calibration.
- With an interventions file (``simulate/interventions.py``): ``interventions.parquet`` (each
  row, the account it treated and the play's effect) and ``treated_decisions.parquet`` (every
  renewal decision of a treated account: the churn probabilities with the play and the
  counterfactual ones without it); ``run.json`` gains each play's true average effect.

Nothing in Tenure reads this module except ``simulate/`` and evaluation code: scoring that could
see the truth would grade its own homework (tests/simulate/test_truth_isolation.py checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from tenure.simulate.calendar import Calendar

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

CAUSES = (
    "bad_fit",
    "low_adoption",
    "champion_left",
    "product_quality",
    "price",
    "acquisition",
    "bankruptcy",
    "budget_cut",
)
CAUSE_SIDE = {
    "bad_fit": "acquisition",
    "low_adoption": "vendor",
    "product_quality": "vendor",
    "price": "vendor",
    "champion_left": "customer",
    "acquisition": "customer",
    "bankruptcy": "customer",
    "budget_cut": "customer",
}
UNAVOIDABLE = {"acquisition", "bankruptcy", "budget_cut"}
OUTCOMES = ("churned", "downgraded", "renewed", "expanded")
FILES = ("accounts", "value_monthly", "renewals", "milestones")


class TruthWriter:
    """Streams monthly values and renewal decisions; the rest is written once at the end."""

    def __init__(self, folder: Path, account_ids: pa.Array, calendar: Calendar) -> None:
        self.folder = folder
        self.account_ids = account_ids
        self.calendar = calendar
        folder.mkdir(parents=True, exist_ok=True)
        self._monthly: list[pa.Table] = []
        self._renewals: list[pa.Table] = []
        self._treated: list[pa.Table] = []
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.value_mean = 0.0
        self.value_sd = 1.0

    def _append(self, name: str, buffer: list[pa.Table], table: pa.Table) -> None:
        buffer.append(table)
        if sum(t.num_rows for t in buffer) >= 200_000:
            self._flush(name, buffer)

    def _flush(self, name: str, buffer: list[pa.Table]) -> None:
        if not buffer:
            return
        table = pa.concat_tables(buffer)
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(
                self.folder / f"{name}.parquet", table.schema, compression="zstd"
            )
        self._writers[name].write_table(table)
        buffer.clear()

    def month(
        self,
        *,
        month: date,
        account: Ints,
        latent_value: Floats,
        latent_value_ewma: Floats,
        active_users: Ints,
        champion_present: Bools,
        incidents: Floats,
    ) -> None:
        table = pa.table(
            {
                "account_external_id": self.account_ids.take(pa.array(account)),
                "month": pa.array(np.full(len(account), np.datetime64(month, "D")), pa.date32()),
                "latent_value": latent_value,
                "latent_value_z": (latent_value - self.value_mean) / self.value_sd,
                "latent_value_ewma": latent_value_ewma,
                "active_users": active_users,
                "champion_present": champion_present,
                "incident_load": incidents,
            }
        )
        self._append("value_monthly", self._monthly, table)

    def outcome(
        self,
        *,
        account: Ints,
        contract_seq: Ints,
        decision_day: Ints,
        term_end: Ints,
        outcome: Ints,
        cause: Ints,
        unexplained: Bools,
        latent_value: Floats,
        z: Floats,
        p_churn: Floats,
        term_months: Ints,
        notice_day: Ints,
        stated_reason: list[str | None],
        intent_day: Ints,
    ) -> None:
        ids = self.account_ids.take(pa.array(account))
        cause_names = [CAUSES[c] if c >= 0 else None for c in cause]
        cal = self.calendar
        table = pa.table(
            {
                "account_external_id": ids,
                "contract_external_id": [
                    f"{a}-c{s}" for a, s in zip(ids.to_pylist(), contract_seq, strict=True)
                ],
                "decision_on": pa.array(cal.dates(decision_day), pa.date32()),
                "term_ends_on": pa.array(cal.dates(term_end), pa.date32()),
                "term_months": term_months,
                "outcome": [OUTCOMES[o] for o in outcome],
                "true_cause": pa.array(cause_names, pa.string()),
                "cause_side": pa.array(
                    [CAUSE_SIDE.get(c) if c else None for c in cause_names], pa.string()
                ),
                "avoidable": pa.array(
                    [None if c is None else c not in UNAVOIDABLE for c in cause_names], pa.bool_()
                ),
                "unexplained": unexplained,
                "latent_value": latent_value,
                "latent_value_z": z,
                "p_churn": p_churn,
                "stated_reason": pa.array(stated_reason, pa.string()),
                "notice_on": pa.array(
                    cal.dates(np.minimum(notice_day, 10**6)), pa.date32(), mask=notice_day >= 10**6
                ),
                "intent_on": pa.array(
                    cal.dates(np.minimum(intent_day, 10**6)), pa.date32(), mask=intent_day >= 10**6
                ),
            }
        )
        self._append("renewals", self._renewals, table)

    def treated_decision(
        self,
        *,
        account: Ints,
        play: list[str],
        treated_day: Ints,
        decision_day: Ints,
        term_end: Ints,
        first_since_treatment: Bools,
        lift: Floats,
        z: Floats,
        z_counterfactual: Floats,
        p_churn: Floats,
        p_churn_counterfactual: Floats,
        p_churn_or_downgrade: Floats,
        p_churn_or_downgrade_counterfactual: Floats,
    ) -> None:
        cal = self.calendar
        self._treated.append(
            pa.table(
                {
                    "account_external_id": self.account_ids.take(pa.array(account)),
                    "play": pa.array(play, pa.string()),
                    "treated_on": pa.array(cal.dates(treated_day), pa.date32()),
                    "decision_on": pa.array(cal.dates(decision_day), pa.date32()),
                    "term_ends_on": pa.array(cal.dates(term_end), pa.date32()),
                    "first_since_treatment": first_since_treatment,
                    "value_lift": lift,
                    "latent_value_z": z,
                    "latent_value_z_counterfactual": z_counterfactual,
                    "p_churn": p_churn,
                    "p_churn_counterfactual": p_churn_counterfactual,
                    "p_churn_or_downgrade": p_churn_or_downgrade,
                    "p_churn_or_downgrade_counterfactual": p_churn_or_downgrade_counterfactual,
                }
            )
        )

    def treated_decisions(self) -> pa.Table | None:
        return pa.concat_tables(self._treated) if self._treated else None

    def write_table(self, name: str, table: pa.Table) -> None:
        pq.write_table(table, self.folder / f"{name}.parquet", compression="zstd")

    def close(self, meta: dict[str, Any]) -> None:
        self._flush("value_monthly", self._monthly)
        self._flush("renewals", self._renewals)
        for writer in self._writers.values():
            writer.close()
        for name in ("value_monthly", "renewals"):
            if name not in self._writers:  # a run too short for any decision
                pq.write_table(pa.table({}), self.folder / f"{name}.parquet")
        (self.folder / "run.json").write_text(
            json.dumps(meta, indent=2, sort_keys=True, default=str)
        )


@dataclass(frozen=True)
class GroundTruth:
    accounts: pa.Table
    value_monthly: pa.Table
    renewals: pa.Table
    milestones: pa.Table
    run: dict[str, Any]


def load_truth(folder: Path) -> GroundTruth:
    """Read a run's ground truth (for evaluation code only)."""
    missing = [name for name in FILES if not (folder / f"{name}.parquet").exists()]
    if missing or not (folder / "run.json").exists():
        from tenure.errors import NotFound

        raise NotFound(
            f"{folder}: no simulator ground truth here (missing {missing or 'run.json'})"
        )
    tables = {name: pq.read_table(folder / f"{name}.parquet") for name in FILES}
    return GroundTruth(**tables, run=json.loads((folder / "run.json").read_text()))


def play_effects(decisions: pa.Table) -> dict[str, dict[str, float | int]]:
    """Each play's true average effect: over the first renewal decision of each treated account
    after its play, the mean of (counterfactual − with-play) probability. Positive: fewer churn."""
    out: dict[str, dict[str, float | int]] = {}
    rows = decisions.filter(decisions["first_since_treatment"]).to_pydict()
    for play in sorted(set(rows["play"])):
        k = [i for i, p in enumerate(rows["play"]) if p == play]
        churn = [rows["p_churn_counterfactual"][i] - rows["p_churn"][i] for i in k]
        either = [
            rows["p_churn_or_downgrade_counterfactual"][i] - rows["p_churn_or_downgrade"][i]
            for i in k
        ]
        out[play] = {
            "decisions": len(k),
            "true_effect_churn": float(np.mean(churn)),
            "true_effect_churn_or_downgrade": float(np.mean(either)),
        }
    return out


def load_treated_decisions(folder: Path) -> pa.Table:
    """The treated accounts' renewal decisions with counterfactual probabilities (evaluation)."""
    path = folder / "treated_decisions.parquet"
    if not path.exists():
        from tenure.errors import NotFound

        raise NotFound(f"{folder}: no treated decisions (was the run given interventions?)")
    return pq.read_table(path)
