"""Is a simulated base realistic and learnable? Logo churn, churn by latent value, the oracle.

- **Annual logo churn** (observable data only): of the accounts holding a contract on
  ``as_of − 365 days``, the share whose churn took effect (``outcome_on``) within that year.
  The calibration test requires it inside ``renewal.churn_band``.
- **Churn by latent value**: renewal decisions on annual and multi-year terms, binned by the true
  latent value at the decision (quantiles); the churn rate must fall from bin to bin.
- **Oracle**: the AUC and top-decile lift of −latent value for churn at those decisions — the best
  any model could hope for; the **naive baseline** is the churn rate itself (AUC 0.5, lift 1).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from tenure.simulate.truth import load_truth


@dataclass(frozen=True)
class ValueBin:
    bin: int
    decisions: int
    churn_rate: float
    mean_value_z: float


@dataclass(frozen=True)
class CalibrationReport:
    config_hash: str
    as_of: date
    customers_at_start: int
    churned_in_year: int
    annual_logo_churn: float
    churn_band: tuple[float, float]
    value_bins: list[ValueBin]
    oracle_auc: float
    oracle_top_decile_lift: float
    naive_churn_rate: float

    @property
    def in_band(self) -> bool:
        low, high = self.churn_band
        return low <= self.annual_logo_churn <= high

    @property
    def monotone(self) -> bool:
        rates = [b.churn_rate for b in self.value_bins]
        return all(a > b for a, b in itertools.pairwise(rates))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "as_of": self.as_of.isoformat(),
            "in_band": self.in_band,
            "monotone": self.monotone,
        }


def annual_logo_churn(contracts: pd.DataFrame, as_of: date) -> tuple[int, int]:
    """(customers a year before ``as_of``, how many of them churned within the year)."""
    start = as_of - timedelta(days=365)
    running = contracts[(contracts.starts_on <= start) & (contracts.ends_on >= start)]
    customers = set(running.account_external_id)
    lost = contracts[
        (contracts.renewal_outcome == "churned")
        & (contracts.outcome_on >= start)
        & (contracts.outcome_on < as_of)
    ]
    return len(customers), len(customers & set(lost.account_external_id))


def churn_by_value(renewals: pd.DataFrame, bins: int) -> list[ValueBin]:
    annual = renewals[renewals.term_months >= 12]
    labels = pd.qcut(annual.latent_value_z, bins, labels=False)
    grouped = annual.assign(bin=labels, churned=annual.outcome == "churned").groupby("bin")
    return [
        ValueBin(int(b), len(g), float(g.churned.mean()), float(g.latent_value_z.mean()))
        for b, g in grouped
    ]


def oracle(renewals: pd.DataFrame) -> tuple[float, float, float]:
    """AUC and top-decile lift of −latent value for churn, and the churn rate (naive baseline)."""
    from sklearn.metrics import roc_auc_score

    annual = renewals[renewals.term_months >= 12]
    churned = (annual.outcome == "churned").to_numpy()
    risk = -annual.latent_value_z.to_numpy()
    base = float(churned.mean())
    top = risk >= pd.Series(risk).quantile(0.9)
    lift = float(churned[top].mean() / base) if base else float("nan")
    return float(roc_auc_score(churned, risk)), lift, base


def calibration_report(folder: Path, *, bins: int = 10) -> CalibrationReport:
    """Read a files-mode run (``--out DIR``) and its truth, and measure it."""
    meta = json.loads((folder / "simulation.json").read_text())
    as_of = date.fromisoformat(meta["as_of"])
    contracts = pd.read_parquet(
        folder / "contracts.parquet",
        columns=["account_external_id", "starts_on", "ends_on", "renewal_outcome", "outcome_on"],
    )
    customers, churned = annual_logo_churn(contracts, as_of)
    renewals = load_truth(folder / "truth").renewals.to_pandas()
    auc, lift, base = oracle(renewals)
    low, high = meta["config"]["renewal"]["churn_band"]
    return CalibrationReport(
        config_hash=meta["config_hash"],
        as_of=as_of,
        customers_at_start=customers,
        churned_in_year=churned,
        annual_logo_churn=churned / customers if customers else float("nan"),
        churn_band=(low, high),
        value_bins=churn_by_value(renewals, bins),
        oracle_auc=auc,
        oracle_top_decile_lift=lift,
        naive_churn_rate=base,
    )
